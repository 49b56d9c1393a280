import csv

from tests.support.records_app import install_shop
from web.cli import main


def test_import_and_export_commands(db, db_url, tmp_path, capsys):
    install_shop(db)
    good = tmp_path / "c.csv"
    with open(good, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["名称", "额度"], ["张三", "10"], ["李四", "x"]])
    assert main(["--database-url", db_url, "import", "shop", "customers", str(good), "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "row 3, column '额度', value 'x'" in out and "dry run: nothing written" in out
    assert (tmp_path / "c.csv.errors.csv").exists()
    assert main(["--database-url", db_url, "import", "shop", "customers", str(good), "--skip-bad-rows"]) == 1
    assert "imported 1 rows" in capsys.readouterr().out
    target = tmp_path / "out.xlsx"
    assert main(["--database-url", db_url, "export", "shop", "customers", "-o", str(target),
                 "--filter", '{"field": "name", "op": "eq", "value": "张三"}']) == 0
    assert "exported 1 records" in capsys.readouterr().out and target.exists()
    assert main(["--database-url", db_url, "import", "shop", "customers", str(tmp_path / "nope.csv")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_import_exit_codes_report_file_and_progress(db, db_url, tmp_path, capsys):
    install_shop(db)
    bad = tmp_path / "bad.csv"
    with open(bad, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["名称", "额度"], ["甲", "1"], ["乙", "-5"], ["丙", "2"]])
    report = tmp_path / "refused.csv"
    args = ["--database-url", db_url, "import", "shop", "customers"]
    assert main(args + [str(bad), "--report", str(report)]) == 1
    captured = capsys.readouterr()
    assert "nothing imported (all or nothing" in captured.out and "refused 1" in captured.out
    assert "read 3 rows (100%)" in captured.err
    with open(report, encoding="utf-8-sig") as fh:
        assert list(csv.reader(fh)) == [["行号 row", "列 column", "值 value", "原因 reason"],
                                        ["3", "额度", "-5", "不能小于 0"]]
    good = tmp_path / "good.csv"
    with open(good, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["名称", "额度"], ["甲", "1"]])
    assert main(args + [str(good)]) == 0
    assert "imported 1 rows" in capsys.readouterr().out
    assert not (tmp_path / "good.csv.errors.csv").exists()   # nothing refused: no empty report left behind
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("名称,编玛\n甲,1\n", encoding="utf-8")
    assert main(args + [str(unknown)]) == 2
    assert "did you mean '编码'" in capsys.readouterr().err


def test_export_options_and_bad_filters(db, db_url, tmp_path, capsys):
    install_shop(db)
    src = tmp_path / "c.csv"
    src.write_text("名称,额度\n甲,1\n乙,2\n", encoding="utf-8")
    assert main(["--database-url", db_url, "import", "shop", "customers", str(src)]) == 0
    out = tmp_path / "data.txt"
    assert main(["--database-url", db_url, "export", "shop", "customers", "--format", "csv", "-o", str(out),
                 "--sort", "-credit", "--lang", "en"]) == 0
    assert out.read_text(encoding="utf-8-sig").splitlines()[:3] == ["Name,Code,Credit,Note,Referrer",
                                                                    "乙,,2.00,,", "甲,,1.00,,"]
    capsys.readouterr()
    assert main(["--database-url", db_url, "export", "shop", "customers", "-o", str(out), "--format", "csv",
                 "--filter", "{name"]) == 2
    assert "--filter is not valid JSON" in capsys.readouterr().err
    assert main(["--database-url", db_url, "export", "shop", "customers", "-o", str(tmp_path / "x.pdf")]) == 2
    assert "use xlsx or csv" in capsys.readouterr().err


def test_a_report_that_cannot_be_written_is_a_clear_error(db, db_url, tmp_path, capsys):
    install_shop(db)
    src = tmp_path / "c.csv"
    src.write_text("名称\n甲\n", encoding="utf-8")
    missing = tmp_path / "no" / "such" / "folder" / "r.csv"
    assert main(["--database-url", db_url, "import", "shop", "customers", str(src), "--report", str(missing)]) == 2
    assert "cannot write the report" in capsys.readouterr().err
