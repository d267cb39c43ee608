"""Pragmatic examples: RSA over a consistency matrix (`rsa`), the Python and regex domains (`python_domain`,
`mutants`, `regex_domain`), one record's task from start to finish (`core`) and the Beam stage (`stage`)."""

from skillseq.transforms.pragmatic.stage import PragmaticExamples, shipped_regexes

__all__ = ["PragmaticExamples", "shipped_regexes"]
