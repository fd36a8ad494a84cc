"""Features on the live path: the stage that computes them from the bus's bars, and the
whole live pipeline (feed, stores, bars, features and what consumes them) in one
process."""
