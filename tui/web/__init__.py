"""``evokafka web``: the console served to a browser (textual-serve), one console process per tab.

Needs the ``web`` extra (``pip install 'evokafka[web]'``).
"""
