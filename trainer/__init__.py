"""palmkit: trainer."""
