"""Stories: articles about the same event share a story id (pure signature and scoring functions in
``signature.py`` and ``scoring.py``; assignment in ``service.py``, all SQL in ``repository.py``)."""
