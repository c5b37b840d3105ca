"""The value classes of the validate path behave as the dataclasses they replaced (equality, hash, repr, replace)."""

from __future__ import annotations

import pickle

from sohs_cli.documents.kinds import Hoso, InnerFile, Kind
from sohs_cli.foundation.xmlsafe import ParseLimits
from sohs_cli.validation.engine import ValidateOptions


def test_equal_by_fields_hashable_when_frozen_and_replace_makes_a_changed_copy() -> None:
    assert Kind("bhxh", "XML1", "XML1") == Kind("bhxh", "XML1", "XML1")
    assert Kind("bhxh", "XML1", "XML1") != Kind("bhxh", "XML2", "XML2")
    assert Kind("bhxh", "XML1", "XML1") != ("bhxh", "XML1", "XML1")
    assert len({Kind("bhxh", "XML1", "XML1"), Kind("bhxh", "XML1", "XML1")}) == 1
    options = ValidateOptions(strict=True)
    assert options.limits == ParseLimits() and options == ValidateOptions(strict=True)
    assert options.replace(standard="4750") == ValidateOptions(standard="4750", strict=True)
    assert options.standard == "auto"  # the original is left as it was
    assert pickle.loads(pickle.dumps(options)) == options  # as --jobs sends it to each worker
    assert repr(ParseLimits(max_bytes=5)) == "ParseLimits(max_bytes=5, max_depth=64, max_tags=1500000)"


def test_a_mutable_one_has_no_hash_and_its_own_list() -> None:
    a, b = Hoso(1, 2), Hoso(1, 2)
    a.files.append(InnerFile(1, "XML1", 3, b""))
    assert b.files == [] and a != b
    try:
        hash(a)
    except TypeError:
        pass
    else:
        raise AssertionError("a mutable value is unhashable, as a dataclass without frozen=True")
