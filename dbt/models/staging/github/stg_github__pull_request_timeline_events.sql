-- One row per timeline event of a pull request (ready for review, convert to draft, review
-- requested / request removed, closed, reopened, merged; labeled / unlabeled, assigned /
-- unassigned, milestoned / demilestoned; each commit and head-branch force push), in
-- timeline order. A commit (PullRequestCommit) has no createdAt: its `created_at` is the
-- commit's committedDate. Conversation comments ride in the same raw timeline and have
-- their own model. Actors stay as GitHub returned them: a
-- deleted account is a null login/kind (an assignee too).

with

source as (

    select * from {{ source('github', 'pull_request_events') }}

),

-- the position breaks ties between events of the same second (GitHub's order)
items as (

    {{ unnest_pull_request_list(
        'source', "events -> '$.timelineItems.nodes'", 'item',
        unique_by="item ->> '$.id'",
        where="item ->> '$.__typename' <> 'IssueComment' and item ->> '$.id' is not null",
        position='timeline_position'
    ) }}

),

renamed as (

    select
        item ->> '$.id'                                        as event_id,
        node_id                                                as pull_request_id,
        repo,
        pr_number,
        item ->> '$.__typename'                                as event_type,
        cast(coalesce(item ->> '$.createdAt',
                      item ->> '$.commit.committedDate') as timestamptz)
                                                               as created_at,
        timeline_position,
        item ->> '$.actor.login'                               as actor_login,
        item ->> '$.actor.__typename'                          as actor_kind,
        item ->> '$.requestedReviewer.__typename'              as requested_reviewer_kind,
        coalesce(item ->> '$.requestedReviewer.login',
                 item ->> '$.requestedReviewer.slug')          as requested_reviewer_name,
        replace(item ->> '$.label.name', chr(0), '')           as label_name,
        item ->> '$.assignee.login'                            as assignee_login,
        item ->> '$.assignee.__typename'                       as assignee_kind,
        replace(item ->> '$.milestoneTitle', chr(0), '')       as milestone_title,
        item ->> '$.commit.oid'                                as commit_oid,
        loaded_at
    from items

)

select * from renamed
