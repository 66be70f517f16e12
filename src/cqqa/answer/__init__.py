"""Answer: the quotes, their translations and the checks of what a model wrote."""
