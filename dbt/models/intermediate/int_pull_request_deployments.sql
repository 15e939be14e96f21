-- Grain: one row per merged pull request whose merge commit is on its repository's
-- default branch (as read so far) and was deployed to production: the first successful
-- production deploy that contains it.
-- A deploy contains a merge commit when it shipped that commit or a later one of the
-- default branch: with the history stored across runs, ancestry is position (committed
-- date) in that history. A deploy of a commit not on the default branch contains nothing
-- here; a PR merged into another branch has no row.
-- Rebuilt whole on every run (a table): a deployment after the merge changes no PR row.
{{ config(materialized='table') }}

with

merge_commits as (

    select * from {{ ref('stg_github__pull_request_merge_commits') }}

),

commits as (

    select * from {{ ref('stg_github__default_branch_commits') }}

),

successful_production as (

    select *
    from {{ ref('int_deployments') }}
    where is_production and outcome = 'SUCCESS' and commit_committed_at is not null

),

merges as (

    select
        merge_commits.pull_request_id,
        merge_commits.repo,
        merge_commits.merge_commit_oid,
        commits.committed_at                                       as merge_committed_at
    from merge_commits
    inner join commits
        on merge_commits.repo = commits.repo
       and merge_commits.merge_commit_oid = commits.commit_oid

),

final as (

    select
        merges.pull_request_id,
        merges.merge_commit_oid,
        min(successful_production.finished_at)                     as deployed_at,
        arg_min(successful_production.deployment_id, successful_production.finished_at)
                                                                   as deployment_id
    from merges
    inner join successful_production
        on merges.repo = successful_production.repo
       and successful_production.commit_committed_at >= merges.merge_committed_at
    group by 1, 2

)

select * from final
