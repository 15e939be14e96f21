-- One row per owner and sync of its teams: how reading them ended. The org is lower-cased
-- (GitHub's logins are case-insensitive; a run may spell one differently).

with

source as (

    select * from {{ source('github', 'org_team_syncs') }}

),

renamed as (

    select
        lower(org)              as org,
        synced_at,
        status,
        team_count,
        missing_permission,
        points_spent,
        requests,
        run_id,
        loaded_at
    from source

)

select * from renamed
