"""DAPO: Direct Advantage Policy Optimization (Liu et al., arXiv 2412.18279) as a workflow."""

__version__ = "0.1.0"
