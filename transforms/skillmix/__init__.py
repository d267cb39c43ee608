"""Instruct-SkillMix: skills named by a teacher (`skills`), skill-pair instructions and responses
(`generation`), the quality filters (`filters`), composed by the `SkillMix` stage (`stage`)."""

from skillseq.transforms.skillmix.stage import SkillMix

__all__ = ["SkillMix"]
