"""Reading what an agent typed after `/xero`."""

from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Invocation:
    name: str
    words: tuple[str, ...]
    raw: str
    problem: str = ""
    """Why the words cannot be trusted (an unclosed quote): nothing may be done with them."""
    quoted_first: bool = False
    """The first word after the subcommand was quoted: it is the whole customer name."""

    @property
    def rest(self) -> str:
        return " ".join(self.words)


def parse(text: str) -> Invocation:
    """Subcommand and words; double quotes group words ("Acme Bikes"), Slack's curly ones too.

    Apostrophes stay part of words: "Bob's Bikes" is two words, not an open quote.
    """
    normalised = text.replace("\u201c", '"').replace("\u201d", '"')
    lexer = shlex.shlex(normalised, posix=True)
    lexer.quotes = '"'
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        words = list(lexer)
    except ValueError:
        words = normalised.replace('"', " ").split()
        name = words[0].lower() if words else "help"
        problem = (
            'A quote is not closed, so I cannot tell where the name ends. Put a " at both '
            'ends, e.g. `/xero link "Acme Bikes" S001`.'
        )
        return Invocation(name, tuple(words[1:]), text, problem=problem)
    if not words:
        return Invocation("help", (), text)
    name = words[0].lower()
    if name == "customer" and len(words) > 1 and words[1].lower() == "add":
        return Invocation("customer add", tuple(words[2:]), text)
    after_name = normalised.strip().split(None, 1)[1:]
    quoted_first = bool(after_name) and after_name[0].startswith('"')
    return Invocation(name, tuple(words[1:]), text, quoted_first=quoted_first)


def quoted(name: str) -> str:
    """A name as the agent would type it back: in quotes when it has spaces."""
    return f'"{name}"' if " " in name else name
