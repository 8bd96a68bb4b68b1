"""SEB Server's monitoring indicators as a sebframe plugin."""
