"""The reference list of German municipalities and Kreise, and its search."""
