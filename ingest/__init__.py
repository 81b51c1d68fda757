"""Read Vietnamese plan files into typed records: documents, sections and chunks."""
