"""Running the pipelines' tasks somewhere else: an ordered map over picklable functions, and Dask.

- :mod:`~mintext.cluster.executor`: the :class:`Executor` protocol the pipelines take
  (``share`` a value once, ``keep`` results where they were computed, ``imap`` in order)
  and :class:`SerialExecutor`, the same in this process.
- :mod:`~mintext.cluster.dask`: :class:`DaskExecutor` on a ``dask.distributed`` cluster and
  :func:`connect` (``tcp://host:8786`` or ``local:N``), with one-line errors.

Nothing here imports Dask until :func:`mintext.cluster.dask.connect` is called; the
pipelines never import this package's Dask module (they receive an executor).
"""
