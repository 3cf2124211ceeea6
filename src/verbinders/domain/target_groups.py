"""Whom an activity is for: free labels read into keys the overlap score compares.

Activities name their target groups in the organisation's own words, as profiles do
("moeders met jonge kinderen", "Turkse ouderen", "statushouders"). `group_keys` reads them into
keys of age, gender, community and situation, so that `senioren` meets `ouderen`, `meiden` is
known to be young and female, and "Turkse vrouwen" and "Eritrese vrouwen" are other
communities.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from verbinders.domain import text

__all__ = ["GROUP_KEYS", "group_keys"]


_GROUP_WORDS: dict[str, tuple[str, ...]] = {
    # age
    "peuters": ("age:kind",),
    "kleuters": ("age:kind",),
    "kinderen": ("age:kind",),
    "kind": ("age:kind",),
    "basisschoolkinderen": ("age:kind",),
    "jonge": (),
    "jongeren": ("age:jong",),
    "tieners": ("age:jong",),
    "scholieren": ("age:jong",),
    "brugklassers": ("age:jong",),
    "meiden": ("age:jong", "gender:v"),
    "jongens": ("age:jong", "gender:m"),
    "volwassenen": ("age:volw",),
    "ouders": ("age:volw", "rol:ouder"),
    "moeders": ("age:volw", "gender:v", "rol:ouder"),
    "vaders": ("age:volw", "gender:m", "rol:ouder"),
    "vrouwen": ("age:volw", "gender:v"),
    "moslimvrouwen": ("age:volw", "gender:v"),
    "mannen": ("age:volw", "gender:m"),
    "ouderen": ("age:oud",),
    "senioren": ("age:oud",),
    "65-plussers": ("age:oud",),
    "65plussers": ("age:oud",),
    "plussers": ("age:oud",),
    # open to all
    "iedereen": ("open",),
    "buurtbewoners": ("open",),
    "bewoners": ("open",),
    "alle": ("open",),
    "families": ("rol:gezin",),
    "gezinnen": ("rol:gezin",),
    "huishoudens": ("rol:gezin",),
    # situations
    "nieuwkomers": ("sit:nieuwkomer",),
    "statushouders": ("sit:nieuwkomer",),
    "vluchtelingen": ("sit:nieuwkomer",),
    "anderstaligen": ("sit:nieuwkomer",),
    "mantelzorgers": ("sit:mantelzorg",),
    "werkzoekenden": ("sit:werkzoekend",),
    "laaggeletterden": ("sit:laaggeletterd",),
    "alleenstaanden": ("sit:alleen",),
    "eenzame": ("sit:alleen",),
    "huurders": ("sit:huurder",),
    "gelovigen": ("open",),
}
_COMMUNITIES = {
    "turks": "tr",
    "turkse": "tr",
    "marokkaans": "ma",
    "marokkaanse": "ma",
    "eritrees": "er",
    "eritrese": "er",
    "syrisch": "sy",
    "syrische": "sy",
    "chinees": "zh",
    "chinese": "zh",
    "surinaams": "sr",
    "surinaamse": "sr",
    "afghaans": "af",
    "afghaanse": "af",
    "koerdisch": "ku",
    "koerdische": "ku",
    "somalisch": "so",
    "somalische": "so",
    "ghanees": "gh",
    "ghanese": "gh",
    "antilliaans": "an",
    "antilliaanse": "an",
    "pools": "pl",
    "poolse": "pl",
    "vietnamees": "vi",
    "vietnamese": "vi",
    "hindostaans": "hi",
    "hindostaanse": "hi",
    "irakees": "iq",
    "irakese": "iq",
}

GROUP_KEYS = frozenset(key for keys in _GROUP_WORDS.values() for key in keys) | frozenset(
    f"community:{code}" for code in _COMMUNITIES.values()
)
"""Every key `group_keys` gives but the `label:` ones."""


def group_keys(labels: Iterable[str]) -> frozenset[str]:
    """Keys of the target groups named by `labels`: `age:kind|jong|volw|oud`, `gender:v|m`,
    `community:<code>`, `sit:<situation>`, `rol:ouder|gezin`, `open` (everyone), and
    `label:<folded label>` for every label (so two identical labels always meet)."""
    keys: set[str] = set()
    for label in labels:
        folded = text.fold(label)
        keys.add(f"label:{folded}")
        for word in re.findall(r"[a-z0-9-]+", folded):
            keys.update(_GROUP_WORDS.get(word, ()))
            if word in _COMMUNITIES:
                keys.add(f"community:{_COMMUNITIES[word]}")
    return frozenset(keys)
