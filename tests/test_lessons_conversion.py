"""While converting: the lessons loaded from lessons/*.yaml equal the old Python literals, types included."""

import dataclasses

from core import lessons
from tools import lessons_literals_old as old


def test_yaml_lessons_equal_the_literals():
    new = lessons.load_folder(lessons.LESSONS_DIR)
    assert new.problems == ()
    assert len(new.lessons) == len(old.LESSONS)
    for a, b in zip(old.LESSONS, new.lessons, strict=True):
        da, db = dataclasses.asdict(a), dataclasses.asdict(b)
        db.pop("file")
        assert repr(da) == repr(db), a.key
