"""The four agent types: firms, cluster management organisations, knowledge institutions, funders."""

from .cmo import ClusterOrganisation
from .firm import Firm
from .funder import Funder
from .knowledge import KnowledgeInstitution

__all__ = ["Firm", "ClusterOrganisation", "KnowledgeInstitution", "Funder"]
