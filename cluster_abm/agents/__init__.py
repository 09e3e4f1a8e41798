"""The four agent types: firms, cluster management organisations, knowledge institutions, funders."""

from cluster_abm.agents.cmo import ClusterOrganisation
from cluster_abm.agents.firm import Firm
from cluster_abm.agents.funder import Funder
from cluster_abm.agents.knowledge import KnowledgeInstitution

__all__ = ["Firm", "ClusterOrganisation", "KnowledgeInstitution", "Funder"]
