"""What digests are made of: sections, their charts and the drawing of those charts."""
