"""``mintext apriori``: exact output, formats, options, and one-line errors with the right exit codes."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO

GROCERIES = "milk,bread\nmilk,eggs\nmilk,bread,eggs\nbread\n"

ITEMSETS_CSV = """\
itemset,length,count,support
bread,1,3,0.75
milk,1,3,0.75
eggs,1,2,0.5
bread|milk,2,2,0.5
eggs|milk,2,2,0.5
"""

RULES_CSV = """\
antecedent,consequent,count,support,confidence,lift,leverage,conviction,zhang,jaccard
milk,bread,2,0.5,0.6666666666666666,0.8888888888888888,-0.0625,0.75,-0.3333333333333333,0.5
bread,milk,2,0.5,0.6666666666666666,0.8888888888888888,-0.0625,0.75,-0.3333333333333333,0.5
milk,eggs,2,0.5,0.6666666666666666,1.3333333333333333,0.125,1.5,1.0,0.6666666666666666
eggs,milk,2,0.5,1.0,1.3333333333333333,0.125,inf,0.5,0.6666666666666666
"""


def test_itemsets_csv_exact(run, write):
    result = run("apriori", write("g.csv", GROCERIES), "--itemsets", "-n", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ITEMSETS_CSV
    assert "4 baskets, 3 items" in result.stderr


def test_rules_csv_exact(run, write):
    result = run("apriori", write("g.csv", GROCERIES), "-n", "2", "-q")
    assert result.exit_code == 0
    assert result.stdout == RULES_CSV
    assert result.stderr == ""


def test_tsv_and_jsonl(run, write):
    path = write("g.csv", GROCERIES)
    tsv = run("apriori", path, "--itemsets", "-n", "2", "--output-format", "tsv", "-q").stdout
    assert tsv == ITEMSETS_CSV.replace(",", "\t")
    lines = run("apriori", path, "-n", "2", "--output-format", "jsonl", "-q").stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert rows[0] == {
        "antecedent": ["milk"], "consequent": ["bread"], "count": 2, "support": 0.5,
        "confidence": 0.6666666666666666, "lift": 0.8888888888888888, "leverage": -0.0625, "conviction": 0.75,
        "zhang": -0.3333333333333333, "jaccard": 0.5,
    }
    assert rows[3]["conviction"] is None  # infinite: confidence 1
    itemsets = [json.loads(line) for line in run("apriori", path, "--itemsets", "-n", "2", "--output-format",
                                                  "jsonl", "-q").stdout.splitlines()]
    assert itemsets[3] == {"itemset": ["bread", "milk"], "length": 2, "count": 2, "support": 0.5}


def test_stdin_gzip_and_output_file(run, write, tmp_path):
    assert run("apriori", "-", "--itemsets", "-n", "2", "-q", input=GROCERIES).stdout == ITEMSETS_CSV
    packed = write("g.csv.gz", gzip.compress(GROCERIES.encode()))
    out = tmp_path / "out.csv"
    result = run("apriori", packed, "--itemsets", "-n", "2", "-o", out, "-q")
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text() == ITEMSETS_CSV


def test_output_is_byte_identical_and_independent_of_input_order(run, write):
    lines = [",".join(f"i{(7 * b + 3 * j) % 13}" for j in range(b % 5 + 1)) for b in range(60)]
    first = write("a.csv", "\n".join(lines) + "\n")
    second = write("b.csv", "\n".join(",".join(reversed(line.split(","))) for line in reversed(lines)) + "\n")
    outputs = [run("apriori", path, "-n", "3", "-c", "0.2", "-q").stdout for path in (first, first, second)]
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0].count("\n") > 20


def test_fimi_default_for_dat_and_natural_item_order(run, write):
    path = write("t.dat", "10 9 2\n2 10 9 \n9 2\n\n")
    result = run("apriori", path, "--itemsets", "-n", "2", "-q")
    assert result.stdout.splitlines() == [
        "itemset,length,count,support",
        "2,1,3,0.75", "9,1,3,0.75", "10,1,2,0.5",
        "2|9,2,3,0.75", "2|10,2,2,0.5", "9|10,2,2,0.5",
        "2|9|10,3,2,0.5",
    ]


def test_basket_format_quoting_trimming_duplicates_and_separators(run, write):
    path = write("q.csv", '"nuts, salted", milk\nmilk ,"nuts, salted",milk\n"say ""hi""",milk\n')
    result = run("apriori", path, "--itemsets", "-n", "2", "-q")
    assert result.stdout.splitlines() == [
        "itemset,length,count,support",
        "milk,1,3,1.0",
        '"nuts, salted",1,2,0.6666666666666666',
        '"milk|nuts, salted",2,2,0.6666666666666666',
    ]
    tabbed = write("t.txt", "a\tb c\nb c\ta\n")
    result = run("apriori", tabbed, "--sep", "\\t", "--itemsets", "-n", "2", "--item-sep", " + ", "-q")
    assert result.stdout.splitlines()[-1] == "a + b c,2,2,1.0"


def test_long_format(run, write):
    path = write("orders.csv", "order_id,when,product\n7,mon,milk\n8,mon,bread\n7,tue,bread\n\n9,wed,milk\n7,mon,milk\n")
    result = run("apriori", path, "--format", "long", "--tid", "order_id", "--item", "product", "--itemsets", "-n", "1",
                 "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "itemset,length,count,support",
        "bread,1,2,0.6666666666666666",
        "milk,1,2,0.6666666666666666",
        "bread|milk,2,1,0.3333333333333333",
    ]
    two = write("two.tsv", "basket\titem\nb1\tx\nb2\tx\nb1\ty\n")
    result = run("apriori", two, "--format", "long", "--itemsets", "-n", "2", "-q")
    assert result.stdout == "itemset,length,count,support\nx,1,2,1.0\n"


def test_skip_empty_changes_the_total(run, write):
    path = write("e.csv", "a\n\na\nb\n")
    with_empty = run("apriori", path, "--itemsets", "-n", "2", "-q").stdout
    without = run("apriori", path, "--itemsets", "-n", "2", "--skip-empty", "-q").stdout
    assert with_empty == "itemset,length,count,support\na,1,2,0.5\n"
    assert without == "itemset,length,count,support\na,1,2,0.6666666666666666\n"


def test_rule_filters(run, write):
    path = write("g.csv", GROCERIES)
    only_eggs_right = run("apriori", path, "-n", "2", "--consequent", "eggs", "-q").stdout.splitlines()
    assert only_eggs_right[1:] == [RULES_CSV.splitlines()[3]]
    milk_left = run("apriori", path, "-n", "2", "--antecedent", "milk", "-q").stdout.splitlines()
    assert [line.split(",")[:2] for line in milk_left[1:]] == [["milk", "bread"], ["milk", "eggs"]]
    lifted = run("apriori", path, "-n", "2", "--min-lift", "1.1", "-c", "0.9", "-q").stdout.splitlines()
    assert lifted[1:] == [RULES_CSV.splitlines()[4]]
    three = write("three.csv", "a,b,c\na,b,c\na\n")
    single = run("apriori", three, "-n", "2", "-c", "0", "--max-consequent", "1", "-q").stdout.splitlines()
    assert {tuple(line.split(",")[:2]) for line in single[1:]} == {
        ("a", "b"), ("b", "a"), ("a", "c"), ("c", "a"), ("b", "c"), ("c", "b"),
        ("b|c", "a"), ("a|c", "b"), ("a|b", "c"),
    }
    everything = run("apriori", three, "-n", "2", "-c", "0", "-q").stdout.splitlines()
    assert len(everything) - 1 == 9 + 3  # plus the three rules with two items on the right
    assert everything[-3:] == [  # a is in every basket: zhang is undefined for a -> b|c
        "c,a|b,2,0.6666666666666666,1.0,1.5,0.2222222222222222,inf,1.0,1.0",
        "b,a|c,2,0.6666666666666666,1.0,1.5,0.2222222222222222,inf,1.0,1.0",
        "a,b|c,2,0.6666666666666666,0.6666666666666666,1.0,0.0,1.0,nan,0.6666666666666666",
    ]


def test_help_has_examples(run):
    result = run("apriori", "--help")
    assert result.exit_code == 0
    assert "  mintext apriori groceries.csv --min-support 0.001\n" in result.stdout
    assert "--max-consequent" in result.stdout


# --------------------------------------------------------------------------- bad input


def assert_one_line_error(result, exit_code: int, message: str) -> None:
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    last = result.stderr.splitlines()[-1]
    assert last.startswith("Error: ") and message in last, last


def test_empty_file(run, write):
    assert_one_line_error(run("apriori", write("e.csv", "")), 1, "e.csv is empty: no baskets to mine")


def test_only_empty_lines(run, write):
    path = write("blank.csv", "\n \n\n")
    assert_one_line_error(run("apriori", path), 1, "has 3 baskets but no items: only empty lines")
    assert_one_line_error(run("apriori", path, "--skip-empty"), 1, "has only empty baskets (3, skipped by --skip-empty)")


@pytest.mark.parametrize("value", ["0", "1.5", "-0.1"])
def test_min_support_outside_range(run, write, value):
    result = run("apriori", write("g.csv", GROCERIES), "--min-support", value)
    assert_one_line_error(result, 2, f"--min-support must be in (0, 1], got {float(value):g}")


def test_min_count_larger_than_the_baskets(run, write):
    result = run("apriori", write("g.csv", GROCERIES), "--min-count", "5")
    assert_one_line_error(result, 2, "--min-count 5 is larger than the number of baskets (4)")


def test_conflicting_options(run, write):
    path = write("g.csv", GROCERIES)
    assert_one_line_error(run("apriori", path, "-s", "0.5", "-n", "2"), 2, "give --min-support or --min-count, not both")
    assert_one_line_error(run("apriori", path, "--itemsets", "--antecedent", "milk"), 2, "--antecedent filter rules")
    assert_one_line_error(run("apriori", path, "--antecedent", "mlik"), 2, "did you mean 'milk'?")
    assert_one_line_error(run("apriori", path, "--tid", "x"), 2, "--tid and --item name the columns of --format long")


def test_item_on_both_sides_fails_before_mining(run, write):
    # -n 5 of 4 baskets would fail in mining: the rule options are checked first, and no mining note is written
    result = run("apriori", write("g.csv", GROCERIES), "-n", "5", "--antecedent", "milk", "--consequent", "milk")
    assert_one_line_error(result, 2, "an item cannot be required on both sides of a rule")
    assert len(result.stderr.splitlines()) == 1


def test_long_format_missing_column(run, write):
    path = write("l.csv", "tid,item\n1,a\n2,b\n3\n")
    assert_one_line_error(run("apriori", path, "--format", "long"), 1,
                          "l.csv line 4: expected 2 fields (tid, item) separated by ',', found 1")


def test_long_format_wrong_header(run, write):
    path = write("l.csv", "order,product\n1,a\n")
    assert_one_line_error(run("apriori", path, "--format", "long", "--tid", "tid", "--item", "product"), 1,
                          "l.csv line 1: no column 'tid' (from --tid) in the header ('order', 'product')")
    wide = write("w.csv", "a,b,c\n1,2,3\n")
    assert_one_line_error(run("apriori", wide, "--format", "long"), 1,
                          "w.csv line 1: the header has 3 column(s) ('a', 'b', 'c'); name the basket id and item "
                          "columns with --tid and --item")
    headless = write("h.csv", "")
    assert_one_line_error(run("apriori", headless, "--format", "long"), 1, "h.csv has no header line")
    blank_id = write("b.csv", "tid,item\n1,a\n ,b\n")
    assert_one_line_error(run("apriori", blank_id, "--format", "long"), 1, "b.csv line 3: empty basket id ('tid' column)")


def test_undecodable_bytes(run, write):
    path = write("bad.csv", b"milk,bread\nmilk,\xff\xfe\n")
    assert_one_line_error(run("apriori", path), 1, "not UTF-8 at byte 16 (line 2) of")
    replaced = run("apriori", path, "--errors", "replace", "--itemsets", "-n", "2")
    assert replaced.exit_code == 0
    assert "undecodable byte sequence(s) replaced" in replaced.stderr


def test_a_basket_with_thousands_of_items(run, write):
    """Two baskets of 5000 items among small ones: only item1-4 reach 3 baskets."""
    big = ",".join(f"item{i}" for i in range(5000))
    small = ["item1,item2,item3", "item1,item2", "item2,item3,item4", "item1,item4"]
    path = write("big.csv", "\n".join([big, *small, big.replace("item4999", "last")]) + "\n")
    result = run("apriori", path, "--itemsets", "-n", "3", "-q")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "itemset,length,count,support",
        "item1,1,5,0.8333333333333334", "item2,1,5,0.8333333333333334",
        "item3,1,4,0.6666666666666666", "item4,1,4,0.6666666666666666",
        "item1|item2,2,4,0.6666666666666666", "item2|item3,2,4,0.6666666666666666",
        "item1|item3,2,3,0.5", "item1|item4,2,3,0.5", "item2|item4,2,3,0.5", "item3|item4,2,3,0.5",
        "item1|item2|item3,3,3,0.5", "item2|item3|item4,3,3,0.5",
    ]
    singles = run("apriori", path, "--itemsets", "-n", "2", "--max-len", "1", "-q")  # item0-item4998
    assert singles.exit_code == 0 and singles.stdout.count("\n") == 1 + 4999


def test_no_frequent_itemsets_is_an_empty_table(run, write):
    path = write("g.csv", "a\nb\nc\n")
    result = run("apriori", path, "-n", "2")
    assert result.exit_code == 0
    assert result.stdout == "antecedent,consequent,count,support,confidence,lift,leverage,conviction,zhang,jaccard\n"
    assert "no itemset is frequent" in result.stderr
    itemsets = run("apriori", path, "-n", "2", "--itemsets", "-q")
    assert (itemsets.exit_code, itemsets.stdout) == (0, "itemset,length,count,support\n")
    assert run("apriori", path, "-n", "2", "--output-format", "jsonl", "-q").stdout == ""


def test_memory_limit(run, write):
    basket = ",".join(f"i{j}" for j in range(24))
    path = write("m.csv", f"{basket}\n{basket}\n")
    assert_one_line_error(run("apriori", path, "-n", "2", "--memory", "16M", "--itemsets"), 1,
                          "over the memory limit of 16.0 MiB")


def test_cli_choices_match_the_library():
    """cli/apriori.py keeps its own copies of the choices so that --help imports no numpy: they must not drift."""
    from cli import apriori as command
    from mintext.association.baskets import FORMATS
    from mintext.association.tables import OUTPUT_FORMATS

    assert command.BASKET_FORMATS == FORMATS
    assert command.OUTPUT_FORMATS == OUTPUT_FORMATS


def test_an_item_with_the_item_sep_is_refused(run, write):
    """'a|b' alone and 'a' with 'b' would both print as a|b: refused before mining, with the way out."""
    path = write("pipe.csv", "a|b,c\na,b\na|b,a,b\n")
    for output_format in ("csv", "tsv"):
        assert_one_line_error(
            run("apriori", path, "--itemsets", "-n", "2", "--output-format", output_format), 2,
            "item 'a|b' contains the --item-sep '|'",
        )
    assert_one_line_error(run("apriori", path, "-n", "2", "--item-sep", ""), 2, "--item-sep must not be empty")
    other = run("apriori", path, "--itemsets", "-n", "2", "--item-sep", ";", "-q")
    assert other.exit_code == 0
    assert other.stdout.splitlines()[1:] == ["a,1,2,0.6666666666666666", "a|b,1,2,0.6666666666666666",
                                             "b,1,2,0.6666666666666666", "a;b,2,2,0.6666666666666666"]
    jsonl = run("apriori", path, "--itemsets", "-n", "2", "--output-format", "jsonl", "-q")
    assert [json.loads(line)["itemset"] for line in jsonl.stdout.splitlines()] == [["a"], ["a|b"], ["b"], ["a", "b"]]
    # an item with the separator that is not frequent is never written: no reason to refuse
    rare = run("apriori", write("rare.csv", "x|y,a\na,b\na,b\n"), "--itemsets", "-n", "2", "-q")
    assert rare.exit_code == 0 and "x|y" not in rare.stdout


def test_space_separated_baskets_get_a_hint(run, write):
    """Space-separated items read as CSV are one item per basket: the warning names --format fimi."""
    text = "a b c\na b\nb c\n"
    result = run("apriori", "-", "--itemsets", "-n", "2", input=text)
    assert result.exit_code == 0
    assert "use --format fimi" in result.stderr
    assert "use --format fimi" not in run("apriori", "-", "--itemsets", "-n", "2", input="a,b\nb\n").stderr
    fimi = run("apriori", "-", "--itemsets", "-n", "2", "--format", "fimi", input=text)
    assert "use --format fimi" not in fimi.stderr
    assert fimi.stdout.splitlines()[1:] == ["b,1,3,1.0", "a,1,2,0.6666666666666666", "c,1,2,0.6666666666666666",
                                            "a|b,2,2,0.6666666666666666", "b|c,2,2,0.6666666666666666"]


def test_closed_maximal_and_top_itemsets(run, write):
    """On GROCERIES (count >= 1), worked by hand: eggs (2) is not closed, eggs|milk has its count; bread and
    milk (3), bread|milk, eggs|milk (2) and bread|eggs|milk (1) are; the triple alone is maximal."""
    path = write("g.csv", GROCERIES)
    closed = run("apriori", path, "--itemsets", "-n", "1", "--closed", "-q")
    assert closed.stdout.splitlines() == [
        "itemset,length,count,support", "bread,1,3,0.75", "milk,1,3,0.75",
        "bread|milk,2,2,0.5", "eggs|milk,2,2,0.5", "bread|eggs|milk,3,1,0.25",
    ]
    maximal = run("apriori", path, "--itemsets", "-n", "1", "--maximal", "-q")
    assert maximal.stdout.splitlines() == ["itemset,length,count,support", "bread|eggs|milk,3,1,0.25"]
    top = run("apriori", path, "--itemsets", "--top", "3")
    assert top.stdout.splitlines() == ["itemset,length,count,support", "bread,1,3,0.75", "milk,1,3,0.75",
                                       "eggs,1,2,0.5", "bread|milk,2,2,0.5", "eggs|milk,2,2,0.5"]  # ties at 2
    assert "with count >= 2" in top.stderr
    at_most = run("apriori", path, "--itemsets", "--max-itemsets", "3", "-q")
    assert at_most.stdout.splitlines() == ["itemset,length,count,support", "bread,1,3,0.75", "milk,1,3,0.75"]
    rules = run("apriori", path, "-n", "1", "--closed", "-c", "0.9", "-q")
    assert [line.split(",")[:2] for line in rules.stdout.splitlines()[1:]] == [
        ["eggs", "milk"], ["bread|eggs", "milk"]]  # eggs -> milk (from the closed eggs|milk), and from the triple


@pytest.mark.parametrize(
    "options, message",
    [
        (["--closed", "--maximal"], "give --closed or --maximal, not both"),
        (["--top", "2", "--max-itemsets", "2"], "give --top or --max-itemsets, not both"),
        (["--top", "2", "--maximal"], "with --maximal choose a support"),
    ],
)
def test_selection_options_that_exclude_each_other(run, write, options, message):
    assert_one_line_error(run("apriori", write("g.csv", GROCERIES), "--itemsets", *options), 2, message)


@pytest.mark.parametrize("option", ["--top", "--max-itemsets"])
def test_top_zero_is_a_usage_error(run, write, option):
    result = run("apriori", write("g.csv", GROCERIES), "--itemsets", option, "0")
    assert result.exit_code == 2 and result.stdout == ""
    assert f"Invalid value for '{option}': 0 is not in the range x>=1" in result.stderr


def test_stream_writes_the_same_itemsets(run, write):
    rng = np.random.default_rng(11)
    text = "".join(",".join(f"i{j}" for j in np.flatnonzero(rng.random(12) < 0.5)) + "\n" for _ in range(200))
    path = write("r.csv", text)
    sorted_run = run("apriori", path, "--itemsets", "-n", "20", "-q")
    streamed = run("apriori", path, "--itemsets", "-n", "20", "--stream", "-q")
    assert streamed.exit_code == 0
    header, *rows = streamed.stdout.splitlines()
    assert header == "itemset,length,count,support"
    assert sorted(rows) == sorted(sorted_run.stdout.splitlines()[1:]) and len(rows) > 100
    assert rows != sorted_run.stdout.splitlines()[1:]  # written as found, not in the sorted order


@pytest.mark.parametrize(
    "options, message",
    [
        (["--stream"], "--stream writes itemsets: add --itemsets"),
        (["--stream", "--itemsets", "--closed"], "it does not combine with --closed"),
        (["--stream", "--itemsets", "--top", "3"], "it does not combine with --top"),
    ],
)
def test_stream_option_errors(run, write, options, message):
    assert_one_line_error(run("apriori", write("g.csv", GROCERIES), *options), 2, message)


def many_itemsets(path) -> None:
    """Baskets whose frequent itemsets at count 2 run into the billions: a run that goes on for minutes."""
    rng = np.random.default_rng(3)
    lines = [" ".join(map(str, np.flatnonzero(rng.random(60) < 0.6))) for _ in range(300)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def mintext_process(*args: str) -> subprocess.Popen:
    # SIGINT back to its default in the child: mintext keeps an inherited SIG_IGN (a background job), and pytest
    # itself may have been started with SIGINT ignored
    return subprocess.Popen([sys.executable, "-m", "cli.main", *map(str, args)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def written_bytes(directory, prefix: str) -> int:
    """The largest size among files in directory whose names start with prefix; files may vanish meanwhile
    (the writability probe of mintext.io.atomic is made and removed before the work starts)."""
    sizes = [0]
    for path in directory.iterdir():
        if path.name.startswith(prefix):
            try:
                sizes.append(path.stat().st_size)
            except FileNotFoundError:
                continue
    return max(sizes)


def test_ctrl_c_during_a_streamed_run_leaves_no_file(tmp_path):
    """SIGINT (what Ctrl-C sends) while itemsets are being streamed to -o: no output and no temporary file."""
    data, out = tmp_path / "many.dat", tmp_path / "out.csv"
    many_itemsets(data)
    process = mintext_process("apriori", data, "--itemsets", "--stream", "-n", "2", "--memory", "16M", "-q", "-o", out)
    deadline = time.monotonic() + 300  # the first 100 kB take 20-40 s on 2 cores at a load average of 13
    while time.monotonic() < deadline:  # wait until the temporary output holds some itemsets
        if written_bytes(tmp_path, ".out.csv.") > 100_000:
            break
        time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("the streamed run wrote nothing in 300 s")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.dat"]
    assert "Traceback" not in stderr
    # 130: the shell's code for Ctrl-C (mintext.io.stopping)
    assert process.returncode == 130 and "Traceback" not in stderr, (process.returncode, stderr)


def test_disk_full_in_the_middle_leaves_no_file(tmp_path):
    """-o on a 256 KiB tmpfs that fills while itemsets stream in: one line, exit 1, nothing left behind."""
    mount = tmp_path / "small"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True,
                             check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        data = tmp_path / "many.dat"
        many_itemsets(data)
        process = mintext_process("apriori", data, "--itemsets", "--stream", "-n", "60", "-q", "-o",
                                  mount / "out.csv")
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 1, stderr
        assert "Traceback" not in stderr
        last = stderr.strip().splitlines()[-1]
        assert last.startswith("Error: cannot write ") and "No space left on device" in last and last.endswith("was written)")
        assert list(mount.iterdir()) == []
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_closed_and_maximal_are_the_same_bytes_on_either_route(run, write, tmp_path, monkeypatch):
    """Dense baskets: --closed / --maximal itemsets mined directly (LCM) or condensed from every frequent itemset
    (forced): the same bytes; only the route that counts every frequent itemset gives their number."""
    import mintext.association.pipeline as pipeline

    rng = np.random.default_rng(8)
    path = write("dense.dat", "".join(" ".join(map(str, np.flatnonzero(rng.random(14) < 0.7))) + "\n"
                                      for _ in range(200)))
    for kind in ("--closed", "--maximal"):
        for output_format in ("csv", "jsonl"):
            direct = run("apriori", path, "--itemsets", "-n", "20", kind, "--output-format", output_format)
            with monkeypatch.context() as patched:
                patched.setattr(pipeline, "pays", lambda *args: False)
                levelwise = run("apriori", path, "--itemsets", "-n", "20", kind, "--output-format", output_format)
            assert direct.exit_code == levelwise.exit_code == 0
            assert direct.stdout == levelwise.stdout and direct.stdout.count("\n") > 20
            assert "among" not in direct.stderr and "frequent)" in levelwise.stderr


def test_memory_limit_of_the_closed_miner(run, tmp_path):
    data = tmp_path / "many.dat"
    many_itemsets(data)
    assert_one_line_error(run("apriori", data, "-n", "2", "--memory", "16M", "--itemsets", "--closed", "-o",
                              tmp_path / "out.csv"), 1, "over the memory limit of 16.0 MiB")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.dat"]
