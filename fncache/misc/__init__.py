"""``fncache.misc``, Theano's place of its helpers: ``pkl_utils`` (``dump``/``load``)."""
