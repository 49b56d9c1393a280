"""A referrer's poster for a campaign (docs/referrals.md, "Posters"): a PNG with the
campaign's image (its `poster` field, from the file store), the campaign's name, the
referrer's masked name and a QR code of the absolute share link with `?ch=qr`, so a scan
is recorded as the poster's channel.

    poster = poster_for(uow, app_key, share, link="https://crm.example.com/r/SPR25-TJ000123?ch=qr",
                        store=file_store(), lang="zh")
    poster.etag          # changes when anything drawn changes; no drawing needed to know it
    png = poster.render()

Chinese text needs a CJK font: FORMWORK_POSTER_FONT (a .ttf/.ttc/.otf path), else the
first of FONT_CANDIDATES found (Debian's fonts-wqy-microhei or fonts-noto-cjk, which
scripts/setup.sh installs), else Pillow's built-in font with a warning in the log (Latin
text only: Chinese characters come out as boxes).
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import segno
from PIL import Image, ImageDraw, ImageFont, ImageOps

from engine.errors import FormworkError
from engine.storage.files import FileStore
from runtime.referrals.codes import ShareCode
from runtime.referrals.intake import Landing, find_share, landing

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 750, 1130
IMAGE_HEIGHT = 460
LAYOUT_VERSION = "1"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
ACCENT, INK, MUTED, PAPER = (22, 93, 255), (29, 33, 41), (107, 114, 128), (255, 255, 255)
TEXTS = {
    "zh": {"invites": "{name} 邀请你参加", "scan": "长按或扫码，填写信息即可参与", "code": "推荐码 {code}",
           "banner": "专属邀请", "sub": "好友推荐 · 双方有礼"},
    "en": {"invites": "{name} invites you", "scan": "Scan the code and leave your details to join",
           "code": "Code {code}", "banner": "You're invited", "sub": "A friend's referral"},
}


@lru_cache(maxsize=1)
def font_path() -> str | None:
    """The CJK font posters are drawn with, None for Pillow's built-in one (warned once)."""
    for candidate in (os.environ.get("FORMWORK_POSTER_FONT"), *FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return candidate
    log.warning("no CJK font found for referral posters (set FORMWORK_POSTER_FONT, or install Debian's "
                "fonts-wqy-microhei or fonts-noto-cjk): Chinese text is drawn as boxes with Pillow's default font")
    return None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


@dataclass(frozen=True)
class Poster:
    campaign_name: str
    referrer_masked: str
    code: str
    link: str
    lang: str
    image: bytes | None

    @property
    def etag(self) -> str:
        digest = hashlib.sha256()
        for part in (LAYOUT_VERSION, font_path() or "", self.campaign_name, self.referrer_masked, self.code,
                     self.link, self.lang):
            digest.update(part.encode() + b"\0")
        digest.update(hashlib.sha256(self.image).digest() if self.image else b"-")
        return digest.hexdigest()[:32]

    def render(self) -> bytes:
        texts = TEXTS.get(self.lang, TEXTS["zh"])
        canvas = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
        draw = ImageDraw.Draw(canvas)
        self._draw_header(canvas, draw, texts)
        y = IMAGE_HEIGHT + 48
        y = _centered(draw, texts["invites"].format(name=self.referrer_masked), y, _font(30), MUTED) + 18
        for line in _wrap(draw, self.campaign_name, _font(46), WIDTH - 96)[:2]:
            y = _centered(draw, line, y, _font(46), INK) + 12
        qr = segno.make(self.link, error="m")
        buffer = io.BytesIO()
        qr.save(buffer, kind="png", scale=9, border=2)
        code_image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
        side = min(360, HEIGHT - y - 150)
        code_image = code_image.resize((side, side), Image.NEAREST)
        top = y + 24
        draw.rounded_rectangle(((WIDTH - side) // 2 - 16, top - 16, (WIDTH + side) // 2 + 16, top + side + 16),
                               radius=20, outline=(229, 231, 235), width=2)
        canvas.paste(code_image, ((WIDTH - side) // 2, top))
        y = _centered(draw, texts["scan"], top + side + 36, _font(26), INK) + 10
        _centered(draw, texts["code"].format(code=self.code), y, _font(24), MUTED)
        out = io.BytesIO()
        canvas.save(out, format="PNG", optimize=True)
        return out.getvalue()

    def _draw_header(self, canvas: Image.Image, draw: ImageDraw.ImageDraw, texts: dict[str, str]) -> None:
        picture = None
        if self.image:
            try:
                picture = Image.open(io.BytesIO(self.image)).convert("RGB")
            except (OSError, ValueError):
                log.warning("the campaign image of %s is not a picture Pillow can read; drawn without it", self.code)
        if picture is not None:
            canvas.paste(ImageOps.fit(picture, (WIDTH, IMAGE_HEIGHT), Image.LANCZOS), (0, 0))
            return
        for row in range(IMAGE_HEIGHT):        # a calm gradient band in the brand colour
            mix = row / IMAGE_HEIGHT
            colour = tuple(int(a + (b - a) * mix) for a, b in zip(ACCENT, (99, 102, 241)))
            draw.line(((0, row), (WIDTH, row)), fill=colour)
        y = _centered(draw, texts["banner"], IMAGE_HEIGHT // 2 - 70, _font(76), PAPER) + 28
        _centered(draw, texts["sub"], y, _font(32), (224, 231, 255))


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """Lines of `text` no wider than `width` (CJK text breaks between any characters)."""
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=font) > width and line:
            lines.append(line)
            line = char.lstrip()
        else:
            line += char
    return [*lines, line] if line else lines


def _centered(draw: ImageDraw.ImageDraw, text: str, y: int, font, fill) -> int:
    """Draw `text` centred at height `y`; the y below it."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((WIDTH - (right - left)) // 2 - left, y - top), text, font=font, fill=fill)
    return y + (bottom - top)


def poster_for(uow, app_key: str, share: ShareCode, *, link: str, store: FileStore, lang: str = "zh") -> Poster:
    """The poster of a resolved share code; `link` is the absolute share link the QR code
    carries (with ?ch=qr)."""
    return _poster(uow, landing(uow, app_key, share), link=link, store=store, lang=lang)


def _poster(uow, page: Landing, *, link: str, store: FileStore, lang: str) -> Poster:
    share = page.share
    image = None
    if page.poster_file_id is not None:
        try:
            with store.open(uow.conn, page.poster_file_id) as handle:
                image = handle.read()
        except (OSError, FormworkError) as exc:      # the blob or its fw_files row is gone
            log.warning("the poster image #%s of %s is missing from the file store; drawn without it: %s",
                        page.poster_file_id, share.code, exc)
    return Poster(page.campaign_name, page.referrer_masked, share.code, link, lang, image)


def poster_of(uow, code: str, *, app_key: str | None, link_for: Callable[[str], str], store: FileStore,
              lang: str = "zh") -> tuple[Landing, Poster] | None:
    """The landing page and the poster of `code` (None when it names nobody);
    `link_for(code)` gives the absolute share link the QR code carries."""
    found = find_share(uow, code, app_key=app_key)
    if found is None:
        return None
    key, share = found
    page = landing(uow, key, share)
    return page, _poster(uow, page, link=link_for(share.code), store=store, lang=lang)


def campaign_image(uow, code: str, *, app_key: str | None, store: FileStore) -> tuple[bytes, str] | None:
    """The campaign image of `code`'s campaign for its landing page: (content, content
    type), None when the code names nobody, the campaign has no image or it is gone. Only
    this field's file is served: the share code is the whole permission."""
    found = find_share(uow, code, app_key=app_key)
    if found is None:
        return None
    page = landing(uow, found[0], found[1])
    if page.poster_file_id is None:
        return None
    row = store.info(uow.conn, [page.poster_file_id]).get(page.poster_file_id)
    if row is None or not str(row["content_type"]).startswith("image/"):
        return None
    try:
        return store.path_of(row["storage_key"]).read_bytes(), row["content_type"]
    except OSError:
        return None
