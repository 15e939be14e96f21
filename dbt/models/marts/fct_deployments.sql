-- Grain: one row per deploy (deployment_id): a repository's deployments, or its releases
-- when it ships by release (see int_deployments for which). Rebuilt on every run.
-- final_state: the latest status; finished_at: the first SUCCESS, FAILURE or ERROR status;
-- a release is a successful production deployment at its published time.

select
    deployment_id,
    repo,
    environment,
    is_production,
    commit_oid,
    created_at,
    final_state,
    finished_at,
    source,
    creator_login,
    outcome,
    is_rolled_back,
    restored_at
from {{ ref('int_deployments') }}
