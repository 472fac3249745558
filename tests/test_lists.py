"""List files and folders written by hand: the forms that are fine read as meant, the
rest is refused with the file, the line and what is wrong; nothing is written."""

import os

import numpy as np
import pytest
from PIL import Image

from tfhash import data


def image(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.full((4, 4, 3), 7, np.uint8)).save(path)


def write(path, text, newline="\n"):
    with open(path, "w", newline="") as f:
        f.write(text.replace("\n", newline))
    return str(path)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_plain_list_comments_blank_lines_tabs_and_line_endings(tmp_path, newline):
    image(tmp_path / "a.png")
    image(tmp_path / "my photos" / "b c.png")
    listing = write(tmp_path / "list.txt",
                    "# path then labels\n\na.png 1 0\nmy photos/b c.png\t0 1\n", newline)
    source = data.load_source(f"list:{listing}")
    assert [os.path.relpath(source.describe(i), tmp_path) for i in range(2)] == [
        "a.png", os.path.join("my photos", "b c.png")]
    np.testing.assert_array_equal(source.labels, [[1, 0], [0, 1]])
    assert not source.unreadable([0, 1])


def test_csv_with_windows_line_endings_spaces_and_blank_lines(tmp_path):
    image(tmp_path / "x y.png")
    image(tmp_path / "z.png")
    listing = write(tmp_path / "list.csv", "file,label,class_name\nx y.png,0,cat\n\nz.png,1,dog\n", "\r\n")
    source = data.load_source(f"list:{listing}")
    assert source.class_names == ["cat", "dog"] and len(source) == 2
    assert source.describe(0) == str(tmp_path / "x y.png")


@pytest.mark.parametrize("name, text, message", [
    ("l.txt", "a.png 1 0\nb.png 1\n", r"l.txt:2: 1 labels, earlier lines have 2"),
    ("l.txt", "a.png 1 0\nb.png 1 0 1\n", r"l.txt:2: 3 labels, earlier lines have 2"),
    ("l.txt", "a.png one zero\n", r"l.txt:1: labels must be numbers, got 'one zero'"),
    ("l.txt", "a.png\n", r"l.txt:1: no labels after the path"),
    ("l.txt", "a.png 1 0\n\n# again\na.png 0 1\n", r"l.txt:4: '.*a.png' is listed again \(first at line 1\)"),
    ("l.txt", "../outside.png 1 0\n", r"l.txt:1: '../outside.png' is outside the image root"),
    ("l.txt", "/etc/hostname 1 0\n", r"l.txt:1: '/etc/hostname' is outside the image root .*@/"),
    ("l.csv", "file,label\na.png,0\nb.png,3\n", r"l.csv: class ids must run from 0 .* no item has class 1, 2 "
                                                r"\(an id out of range\?\)"),
    ("l.csv", "file,label\na.png,0,extra\n", r"l.csv:2: more columns than the header"),
    ("l.csv", "file,label\na.png\n", r"l.csv:2: label must be a class id, got None"),
    ("l.csv", "file,label\na.png,x\n", r"l.csv:2: label must be a class id, got 'x'"),
    ("l.csv", "file,label\n../a.png,0\n", r"l.csv:2: '../a.png' is outside the image root"),
    ("l.csv", "file,label\na.png,0\na.png,0\n", r"l.csv:3: '.*a.png' is listed again \(first at line 2\)"),
    ("l.txt", "# nothing\n\n", r"has no items"),
])
def test_bad_lists_name_the_line(tmp_path, name, text, message):
    root = tmp_path / "root"
    root.mkdir()
    listing = write(root / name, text)
    with pytest.raises(ValueError, match=message):
        data.load_source(f"list:{listing}")


def test_paths_anywhere_when_the_root_is_given_as_slash(tmp_path):
    image(tmp_path / "elsewhere" / "a.png")
    root = tmp_path / "lists"
    root.mkdir()
    listing = write(root / "l.txt",
                    f"{tmp_path}/elsewhere/a.png 1\n{tmp_path}/lists/../elsewhere/a.png 1\n")
    with pytest.raises(ValueError, match="outside the image root"):
        data.load_source(f"list:{listing}")
    with pytest.raises(ValueError, match="l.txt:2: .* is listed again"):  # the same file twice
        data.load_source(f"list:{listing}@/")
    write(root / "l.txt", f"{tmp_path}/elsewhere/a.png 1\n")
    assert data.load_source(f"list:{listing}@/").describe(0) == str(tmp_path / "elsewhere" / "a.png")


def test_folders_empty_or_with_an_empty_class(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="has no class subfolders"):
        data.load_source(f"folder:{tmp_path / 'empty'}")
    image(tmp_path / "one" / "cat" / "a.png")
    (tmp_path / "one" / "dog").mkdir()
    with pytest.raises(ValueError, match=r"class folder\(s\) \['dog'\] hold no image files"):
        data.load_source(f"folder:{tmp_path / 'one'}")
    (tmp_path / "none" / "cat").mkdir(parents=True)
    with pytest.raises(ValueError, match="has class folders but no image files"):
        data.load_source(f"folder:{tmp_path / 'none'}")
    with pytest.raises(ValueError, match="is not a directory"):
        data.load_source(f"folder:{tmp_path / 'missing'}")
