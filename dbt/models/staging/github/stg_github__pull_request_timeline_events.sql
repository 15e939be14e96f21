-- One row per timeline event of a pull request (ready for review, convert to draft, review
-- requested / request removed, closed, reopened, merged), in timeline order. Conversation
-- comments ride in the same raw timeline and have their own model. Actors stay as GitHub
-- returned them: a deleted account is a null login/kind.

with

source as (

    select * from {{ source('github', 'pull_request_events') }}

),

timelines as (

    select
        node_id,
        repo,
        pr_number,
        cast(events -> '$.timelineItems.nodes' as json[]) as items,
        loaded_at
    from source

),

unnested as (

    select
        node_id,
        repo,
        pr_number,
        unnest(items)                      as item,
        -- the position breaks ties between events of the same second (GitHub's order)
        generate_subscripts(items, 1)      as timeline_position,
        loaded_at
    from timelines

),

renamed as (

    select
        item ->> '$.id'                                        as event_id,
        node_id                                                as pull_request_id,
        repo,
        pr_number,
        item ->> '$.__typename'                                as event_type,
        cast(item ->> '$.createdAt' as timestamptz)            as created_at,
        timeline_position,
        item ->> '$.actor.login'                               as actor_login,
        item ->> '$.actor.__typename'                          as actor_kind,
        item ->> '$.requestedReviewer.__typename'              as requested_reviewer_kind,
        coalesce(item ->> '$.requestedReviewer.login',
                 item ->> '$.requestedReviewer.slug')          as requested_reviewer_name,
        loaded_at
    from unnested
    where item is not null
      and item ->> '$.__typename' <> 'IssueComment'
      and item ->> '$.id' is not null
    -- An event belongs to one PR, so partitioning by the PR (and its loaded_at, one value
    -- per PR) changes nothing, but lets a filter on loaded_at pass the window.
    qualify row_number() over (partition by node_id, loaded_at, item ->> '$.id') = 1

)

select * from renamed
