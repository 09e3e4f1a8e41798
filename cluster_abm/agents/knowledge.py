"""Knowledge institutions: universities, research centres and institutional KIBS (seed 3.1.1-3.1.2).

They hold a knowledge vector over the technology fields, run a limited number of joint projects
with firms (the triple helix at cluster level, seed 3.1.1) and, for universities, add graduates to
their region's skilled labour pool (seed 2.6). Institutional KIBS serve their own cluster; once
accredited (lever ``accredited_kibs``, seed 3.1.2) they take clients beyond it. Research centres
can be the "excellence centres" that manufacturing clusters bridge to (seed 3.5.3).

State table:

=============  ======  ==================================================================
attribute      unit    meaning
=============  ======  ==================================================================
kind           -       "university", "research" or "kibs"
region         index   home region
cluster        index   cluster a KIBS was founded for (-1 for universities and centres)
quality        0-1     quality of research and teaching
capacity       count   concurrent firm projects it can run
knowledge      ku      knowledge per technology field (grows with the external frontier)
projects       count   firm projects running now
accredited     bool    accredited excellent KIBS with cross-cluster reach
=============  ======  ==================================================================
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import FixedAgent

from cluster_abm.agents.ids import ModelScopedIds

KINDS = ("university", "research", "kibs")


class KnowledgeInstitution(ModelScopedIds, FixedAgent):
    def __init__(self, model, kind: str, region: int, cluster: int, quality: float,
                 capacity: int, knowledge: np.ndarray, cell):
        super().__init__(model)
        if kind not in KINDS:
            raise ValueError(f"unknown knowledge-institution kind {kind!r}")
        self.kind = kind
        self.region = int(region)
        self.cluster = int(cluster)
        self.quality = float(quality)
        self.capacity = int(capacity)
        self.knowledge = np.asarray(knowledge, dtype=float)
        self.projects = 0
        self.accredited = False
        self.cell = cell

    @property
    def free_capacity(self) -> int:
        return max(self.capacity - self.projects, 0)

    def __repr__(self) -> str:
        return f"KnowledgeInstitution({self.kind} in {self.model.world.regions[self.region].id}, quality={self.quality:.2f})"
