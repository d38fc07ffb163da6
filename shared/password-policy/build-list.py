#!/usr/bin/env python3
"""Writes src/common-passwords.txt: the most common passwords, for the policy's blocklist.

A one-off, kept so the list can be remade or grown; the build never runs it. The source is the
frequency lists of the zxcvbn crate 3.1.1 (src/frequency_lists.rs), which are Dropbox's zxcvbn
lists: MIT licence, Copyright (c) 2016 Joshua Holmer (the Rust port) and Copyright (c)
2012-2015 Dan Wheeler and Dropbox, Inc. (the lists). The crate's source is in Cargo's registry
once any build has fetched it:

    python3 shared/password-policy/build-list.py \\
        ~/.cargo/registry/src/*/zxcvbn-3.1.1/src/frequency_lists.rs

What it takes:
- the first TOP_PASSWORDS of "passwords" (30,000 passwords of leaked sets, most frequent
  first);
- the first TOP_NAMES of "male_names" and of "female_names" (US census, most frequent first).
  zxcvbn keeps a word in one list only, the one where it ranks highest, so "michael",
  "jennifer" or "daniel", among the most used passwords, are in its name lists and missing
  from "passwords".
Lower-cased, deduplicated and sorted by byte value (the policy looks one up by binary search),
one a line. 18,500 entries keep the file under 150 KB; each further thousand costs ~8 KB of
every binary that links the policy.
"""

import pathlib
import re
import sys

TOP_PASSWORDS = 17_500
TOP_NAMES = 500
OUT = pathlib.Path(__file__).resolve().parent / "src" / "common-passwords.txt"


def ranked(name, source):
    """One of zxcvbn's lists (a Rust `const NAME: &str = "a,b,c";`), most frequent first."""
    found = re.search(rf'const {name}: &str = "([^"]*)";', source)
    if not found:
        sys.exit(f"no {name} list in that file")
    return found.group(1).split(",")


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} path/to/zxcvbn-3.x/src/frequency_lists.rs")
    source = pathlib.Path(sys.argv[1]).read_text(encoding="utf-8")
    chosen = (ranked("PASSWORDS", source)[:TOP_PASSWORDS]
              + ranked("MALE_NAMES", source)[:TOP_NAMES]
              + ranked("FEMALE_NAMES", source)[:TOP_NAMES])
    top = sorted({password.lower() for password in chosen if password},
                 key=lambda password: password.encode("utf-8"))
    if any(password != password.strip() for password in top):
        sys.exit("a password with surrounding whitespace: the policy would never match it")
    OUT.write_text("".join(f"{password}\n" for password in top), encoding="utf-8")
    print(f"{OUT}: {len(top)} passwords, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
