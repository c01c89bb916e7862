"""A small PyTorch image classifier: the project `make demo` converts to Paddle."""
