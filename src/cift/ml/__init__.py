"""Datasets, cross-validation, models, training and their tracking; model configurations."""
