"""Pure chart builders: a frame in, a Plotly figure out — the page and the PDF draw the same picture."""
