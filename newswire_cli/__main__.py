from newswire_cli.main import app

app()
