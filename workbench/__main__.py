from workbench.cli import app

app(prog_name="python -m workbench")
