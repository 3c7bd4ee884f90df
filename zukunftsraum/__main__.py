from zukunftsraum.cli import app

app(prog_name="zukunftsraum")
