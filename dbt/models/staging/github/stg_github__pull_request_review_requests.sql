-- One row per pull request x pending review request (a reviewer asked and not yet
-- reviewed). The requested reviewer is a user/bot/mannequin (`requested_reviewer_login`)
-- or a team (`requested_team_slug`). Requests whose reviewer GitHub returns as null (a
-- deleted account, or a team the token cannot see) are skipped: nothing identifies them.

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

-- unnest in the select list: a filter on loaded_at reaches the raw scan (see
-- stg_github__pull_request_labels).
unnested as (

    select
        node_id,
        repo,
        pr_number,
        loaded_at,
        unnest(cast(pr -> '$.reviewRequests.nodes' as json[])) as request
    from source

),

requests as (

    select
        node_id,
        repo,
        pr_number,
        loaded_at,
        request -> '$.requestedReviewer' as reviewer
    from unnested
    where request is not null

),

renamed as (

    select
        node_id                                                as pull_request_id,
        repo,
        pr_number,
        reviewer ->> '$.__typename'                            as requested_reviewer_kind,
        case when reviewer ->> '$.__typename' <> 'Team'
             then reviewer ->> '$.login' end                   as requested_reviewer_login,
        case when reviewer ->> '$.__typename' = 'Team'
             then reviewer ->> '$.slug' end                    as requested_team_slug,
        coalesce(reviewer ->> '$.login', reviewer ->> '$.slug') as requested_reviewer_name,
        loaded_at
    from requests
    where coalesce(reviewer ->> '$.login', reviewer ->> '$.slug') is not null
    -- loaded_at: one value per node_id; lets a filter on it pass the window.
    qualify row_number() over (
        partition by node_id,
                     loaded_at,
                     reviewer ->> '$.__typename',
                     coalesce(reviewer ->> '$.login', reviewer ->> '$.slug')
    ) = 1

)

select * from renamed
