-- One row per pull request x pending review request (a reviewer asked and not yet
-- reviewed). The requested reviewer is a user/bot/mannequin (`requested_reviewer_login`)
-- or a team (`requested_team_slug`). Requests whose reviewer GitHub returns as null (a
-- deleted account, or a team the token cannot see) are skipped: nothing identifies them.

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

unnested as (

    select
        source.node_id,
        source.repo,
        source.pr_number,
        item.request -> '$.requestedReviewer' as reviewer
    from source
    cross join unnest(cast(source.pr -> '$.reviewRequests.nodes' as json[])) as item(request)
    where item.request is not null

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
        coalesce(reviewer ->> '$.login', reviewer ->> '$.slug') as requested_reviewer_name
    from unnested
    where coalesce(reviewer ->> '$.login', reviewer ->> '$.slug') is not null
    qualify row_number() over (
        partition by node_id,
                     reviewer ->> '$.__typename',
                     coalesce(reviewer ->> '$.login', reviewer ->> '$.slug')
    ) = 1

)

select * from renamed
