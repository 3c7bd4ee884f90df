"""The staff digest and the member digest, with their charts and schedule."""
