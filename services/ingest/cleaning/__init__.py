"""Cleaning domain: turn a scraped HTML page or scraped text into an article body plus metadata.

Pure functions only (no database, no web).  See :func:`clean`, :func:`clean_html`, :func:`clean_text`.
"""

from .models import CleanedArticle, RemovedPiece
from .service import clean, clean_html, clean_text

__all__ = ["CleanedArticle", "RemovedPiece", "clean", "clean_html", "clean_text"]
