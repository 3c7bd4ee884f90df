"""The Biete/Suche exchange: posts, matching, proposals, interests, imports."""
