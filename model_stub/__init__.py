"""palmkit: model_stub."""
