"""The shared kernel: time, errors, texts, replies, money, grammar, handler context, features."""
