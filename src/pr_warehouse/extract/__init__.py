"""Extract: page GitHub's GraphQL API and keep every response page untouched."""
