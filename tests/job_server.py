"""A local Beam job service that spreads each stage's bundles over several SDK workers, as a Flink or Spark job
server spreads them over task slots. (The job service Beam embeds, `--job_endpoint=embed`, always uses one.)

    with JobServer() as endpoint: ... --runner=PortableRunner --job_endpoint={endpoint} --direct_num_workers=2
"""

from __future__ import annotations

from apache_beam.options.pipeline_options import DirectOptions
from apache_beam.portability.api import beam_job_api_pb2
from apache_beam.runners.portability import local_job_service
from apache_beam.runners.portability.fn_api_runner import FnApiRunner


class _ParallelJob(local_job_service.BeamJob):
    def _invoke_runner(self):
        self.set_state(beam_job_api_pb2.JobState.RUNNING)
        options = self.pipeline_options()
        runner = FnApiRunner(provision_info=self._provision_info)
        # FnApiRunner reads the worker count only in run_pipeline; the job service path starts from the proto.
        runner._num_workers = int(options.view_as(DirectOptions).direct_num_workers or 1)  # a string here
        return runner.run_via_runner_api(self._pipeline_proto, options)


class JobServer:
    def __enter__(self) -> str:
        self.servicer = local_job_service.LocalJobServicer(beam_job_type=_ParallelJob)
        return f"localhost:{self.servicer.start_grpc_server()}"

    def __exit__(self, *exc):
        self.servicer.stop()
