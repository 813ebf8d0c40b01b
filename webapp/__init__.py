"""The web layer: the page, its API and the server, over ``preprocessing`` and ``knn``.

- ``settings``: the command line, the page's sizes and the server's limits (no Gradio import);
- ``inputs``: the sketchpad and image inputs, checked before anything is decoded;
- ``answers``: the handlers, from what is sent to what is shown;
- ``view``: how a classification is shown on the page and returned to programs;
- ``images``: 28x28 digits as inline PNGs;
- ``page``: the layout and the events, ``build_demo(model)``;
- ``server``: serving it with the app's limits.
"""
