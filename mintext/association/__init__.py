"""Frequent itemsets and association rules over packed bitsets (``mintext apriori``).

Read :mod:`~mintext.association.pipeline` first (:func:`apriori`).

- :mod:`~mintext.association.baskets`: :func:`read_baskets`, baskets from files, frames or lists.
- :mod:`~mintext.association.itemsets`: :func:`frequent_itemsets`, level by level, vectorised.
- :mod:`~mintext.association.condensed`: closed, maximal and top itemsets among the frequent ones.
- :mod:`~mintext.association.rules`: :func:`association_rules` from the itemsets.
- :mod:`~mintext.association.tables`: the tables written by the command (csv, tsv, json).
- :mod:`~mintext.association.closure`, :mod:`~mintext.association.stream`: closed and maximal itemsets
  on dense data, and depth-first mining written as found.
- :mod:`~mintext.association.cluster_baskets`: baskets read on a cluster's workers and kept there;
  :mod:`~mintext.association.distributed`: Count Distribution over them.

Uses :mod:`mintext.io` and :mod:`mintext.cluster`.
"""

from __future__ import annotations

from mintext.association.baskets import Baskets, read_baskets
from mintext.association.itemsets import FrequentItemsets, frequent_itemsets
from mintext.association.pipeline import apriori
from mintext.association.rules import association_rules

__all__ = ["Baskets", "FrequentItemsets", "apriori", "association_rules", "frequent_itemsets", "read_baskets"]
