"""palmkit: tokenizer."""
