package emulator

import "strings"

// Directory roles and what each lets a person do through Graph with a delegated token
// (shared/facts/tenants.md §1). A delegated call gets the intersection of its scopes
// (graph_permissions.go) and the person's rights checked here; app-only calls are checked by
// their application permissions alone.

// Role display names, as Graph shows directoryRole.displayName.
const (
	RoleGlobalAdmin         = "Global Administrator"
	RoleAppAdmin            = "Application Administrator"
	RoleCloudAppAdmin       = "Cloud Application Administrator"
	RoleAppDeveloper        = "Application Developer"
	RolePrivilegedRoleAdmin = "Privileged Role Administrator"
	RoleUserFlowAdmin       = "External ID User Flow Administrator"
)

// roleTemplateIDs are the built-in roles' template ids (tenants.md §1.1).
var roleTemplateIDs = map[string]string{
	RoleGlobalAdmin:         "62e90394-69f5-4237-9190-012177145e10",
	RoleAppAdmin:            "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
	RoleCloudAppAdmin:       "158c047a-c907-4556-b7ef-446551a6b5f7",
	RoleAppDeveloper:        "cf1c38e5-3621-4004-a7cb-879624dced7c",
	RolePrivilegedRoleAdmin: "e8611ab8-c189-46e8-94e1-60213ab1f814",
	RoleUserFlowAdmin:       "6e591065-9bad-43ed-90f3-e9424366d2f0",
}

// RoleTemplateID is a built-in role's template id ("" for an unknown name).
func RoleTemplateID(role string) string { return roleTemplateIDs[role] }

// HasRole reports whether the user holds a directory role, by display name.
func (u *User) HasRole(role string) bool {
	for _, r := range u.Roles {
		if strings.EqualFold(r, role) {
			return true
		}
	}
	return false
}

func (u *User) hasAnyRole(roles ...string) bool {
	for _, r := range roles {
		if u.HasRole(r) {
			return true
		}
	}
	return false
}

// IsGlobalAdmin is what existing callers call "admin": the one all-powerful person.
func (u *User) IsGlobalAdmin() bool { return u.HasRole(RoleGlobalAdmin) }

// appAdmin: the roles holding applications/create, credentials/update and delete on any app,
// servicePrincipals/create and deletedItems.applications/delete (§1.2). Not made owners, outside
// the quota.
func (u *User) appAdmin() bool { return u.hasAnyRole(RoleGlobalAdmin, RoleAppAdmin, RoleCloudAppAdmin) }

// CanConsentForOrg reports whether the user may grant tenant-wide (AllPrincipals) consent to
// Graph delegated permissions: GA, PRA, App Admin, Cloud App Admin (§1.3, §3.3).
func (u *User) CanConsentForOrg() bool {
	return u.hasAnyRole(RoleGlobalAdmin, RolePrivilegedRoleAdmin, RoleAppAdmin, RoleCloudAppAdmin)
}

// userFlowAdmin: b2cUserFlow/allProperties/allTasks (§1.2); App and Cloud App Admins lack it
// ([unverified] for includeApplications, §1.3).
func (u *User) userFlowAdmin() bool { return u.hasAnyRole(RoleGlobalAdmin, RoleUserFlowAdmin) }

// user is the signed-in person of a delegated call (nil for app-only or a deleted user).
func (g *gcall) user() *User {
	if !g.c.Delegated() {
		return nil
	}
	return g.t.UserByID(g.c.UserID)
}

// callerObjectID is the directory object that acts: the user, or the calling app's service
// principal (the owner of what an app-only call creates, tenants.md §1.3).
func (g *gcall) callerObjectID() string {
	if g.c.Delegated() {
		return g.c.UserID
	}
	if sp := g.t.SPByAppID(g.c.AppID); sp != nil {
		return sp.ID
	}
	return ""
}

// isAdmin reports whether the call is outside the non-admin quota and is not made owner of what
// it creates: an app admin (GA, App Admin, Cloud App Admin) or an app acting as itself (whose
// quota is counted by FaultConfig.ObjectQuota as before).
func (g *gcall) isAdmin() bool {
	if !g.c.Delegated() {
		return true
	}
	u := g.user()
	return u != nil && u.appAdmin()
}

// mayCreateApp: app admins; Application Developer (createAsOwner); any member while the tenant
// lets users register apps (allowedToCreateApps). PRA and User Flow Admin count as members.
func (g *gcall) mayCreateApp() bool {
	u := g.user()
	if u == nil {
		return !g.c.Delegated()
	}
	return u.appAdmin() || u.HasRole(RoleAppDeveloper) || g.t.settings().AllowedToCreateApps
}

// owns reports whether the caller is among the owners.
func (g *gcall) owns(owners []string) bool {
	id := g.callerObjectID()
	for _, o := range owners {
		if id != "" && strings.EqualFold(o, id) {
			return true
		}
	}
	return false
}

// mayManageApp: update, credentials, delete, restore and owners of one app: app admins any,
// anyone else the apps they own (§1.3; with allowedToCreateApps off a member still manages
// the apps they own [unverified], note 1). App-only calls are limited by their permissions.
func (g *gcall) mayManageApp(a *Application) bool {
	if !g.c.Delegated() {
		return true
	}
	u := g.user()
	return u != nil && (u.appAdmin() || g.owns(a.Owners))
}

// mayCreateSP: app admins and Application Developers for any app; a member for an app they own
// while members may register apps ([unverified], §1.3 note 2).
func (g *gcall) mayCreateSP(a *Application) bool {
	u := g.user()
	if u == nil {
		return !g.c.Delegated()
	}
	return u.appAdmin() || u.HasRole(RoleAppDeveloper) || (g.t.settings().AllowedToCreateApps && g.owns(a.Owners))
}

// mayManageSP: update or delete a service principal: app admins any, owners their own.
func (g *gcall) mayManageSP(s *ServicePrincipal) bool {
	if !g.c.Delegated() {
		return true
	}
	u := g.user()
	return u != nil && (u.appAdmin() || g.owns(s.Owners))
}

// mayConsentForOrg: oauth2PermissionGrants writes. Application Developer's createAsOwner is for
// its own consent only; an AllPrincipals grant by it is refused ([unverified], §1.3 note 3).
func (g *gcall) mayConsentForOrg() bool {
	u := g.user()
	if u == nil {
		return !g.c.Delegated()
	}
	return u.CanConsentForOrg()
}

// mayPurge: DELETE /directory/deletedItems/{id}. Graph's page lists App Admin, Cloud App Admin
// (and Hybrid Identity Admin) for delegated calls; whether owners may purge is [unverified]
// (§1.3 note 4): refused, as the API page says.
func (g *gcall) mayPurge() bool {
	u := g.user()
	if u == nil {
		return !g.c.Delegated()
	}
	return u.appAdmin()
}

// mayUseUserFlows: list, read, create, delete user flows and their includeApplications: GA and
// External ID User Flow Administrator (§1.3, §6).
func (g *gcall) mayUseUserFlows() bool {
	u := g.user()
	if u == nil {
		return !g.c.Delegated()
	}
	return u.userFlowAdmin()
}

// ownedBy is who becomes first owner of an object the call creates: a non-admin user
// (createAsOwner) or the calling app; nobody for an admin (§2).
func (g *gcall) ownedBy() []string {
	if g.c.Delegated() && g.isAdmin() {
		return nil
	}
	if id := g.callerObjectID(); id != "" {
		return []string{id}
	}
	return nil
}
