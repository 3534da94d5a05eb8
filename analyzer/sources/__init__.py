"""Reading: paths, archives and formats into records, and where each column lives in them."""
