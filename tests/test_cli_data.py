import csv

from web.cli import main
from tests.records_app import install_shop


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
