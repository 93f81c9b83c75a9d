"""palmkit: pipelines."""
