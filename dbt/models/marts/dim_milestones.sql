-- Grain: one row per repository milestone (repo + milestone number) that at least one
-- pull request points at. Attributes come from the most recently updated PR carrying it.

with

-- The fact, not staging: a table kept incrementally that carries each PR's milestone.
pull_requests as (

    select * from {{ ref('fct_pull_requests') }}

),

final as (

    select
        repo,
        milestone_number,
        milestone_id,
        milestone_title,
        milestone_state,
        milestone_due_on
    from pull_requests
    where milestone_number is not null
    qualify row_number() over (
        partition by repo, milestone_number
        order by updated_at desc, loaded_at desc, pull_request_id
    ) = 1

)

select * from final
