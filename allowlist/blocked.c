/* SPDX-License-Identifier: MIT */
/*
 * The interfaces no policy can allow (DESIGN.md "Always blocked").
 *
 * Each of these protocols gives one client power over the whole desktop:
 * it can type or click into other clients, read their pixels or their
 * clipboard, see or steer every window, cover or lock the screen, change
 * outputs, or take input away from everyone else.  A VM must never get
 * any of them, so the list is compiled in and checked before the policy.
 *
 * Every interface of each protocol is listed, not only its global: the
 * proxy never creates the others without the global, but naming them all
 * means a table or policy mistake can not let one through by another name.
 * Vendor-private protocols are listed too: whether or not the vendored
 * tables know them, a name that is never exposed costs nothing.
 *
 * Grouped by protocol for review, so lookups scan the whole table; it is
 * consulted when globals are announced and bound, not per message.
 */
#include <string.h>

#include "policy.h"

static const char *const blocked[] = {
	/* virtual-keyboard-unstable-v1: synthesises key presses */
	"zwp_virtual_keyboard_manager_v1",
	"zwp_virtual_keyboard_v1",
	/* wlr-virtual-pointer-unstable-v1: synthesises pointer input */
	"zwlr_virtual_pointer_manager_v1",
	"zwlr_virtual_pointer_v1",
	/* ext-transient-seat-v1: new seats, for remote input injection */
	"ext_transient_seat_manager_v1",
	"ext_transient_seat_v1",
	/* KDE fake-input: synthesises any input */
	"org_kde_kwin_fake_input",
	/* weston-test: the test suite's input injection */
	"weston_test",
	"weston_test_runner",

	/* Screen capture: every pixel of every client */
	/* wlr-screencopy-unstable-v1 */
	"zwlr_screencopy_manager_v1",
	"zwlr_screencopy_frame_v1",
	/* ext-image-copy-capture-v1 */
	"ext_image_copy_capture_manager_v1",
	"ext_image_copy_capture_session_v1",
	"ext_image_copy_capture_frame_v1",
	"ext_image_copy_capture_cursor_session_v1",
	/* ext-image-capture-source-v1 */
	"ext_image_capture_source_v1",
	"ext_output_image_capture_source_manager_v1",
	"ext_foreign_toplevel_image_capture_source_manager_v1",
	/* wlr-export-dmabuf-unstable-v1 */
	"zwlr_export_dmabuf_manager_v1",
	"zwlr_export_dmabuf_frame_v1",
	/* hyprland-toplevel-export-v1 */
	"hyprland_toplevel_export_manager_v1",
	"hyprland_toplevel_export_frame_v1",
	/* cosmic-screencopy and its image sources */
	"zcosmic_screencopy_manager_v1",
	"zcosmic_screencopy_session_v1",
	"zcosmic_screencopy_manager_v2",
	"zcosmic_screencopy_session_v2",
	"zcosmic_screencopy_frame_v2",
	"zcosmic_screencopy_cursor_session_v2",
	"zcosmic_image_source_v1",
	"zcosmic_output_image_source_manager_v1",
	"zcosmic_toplevel_image_source_manager_v1",
	"zcosmic_workspace_image_source_manager_v1",
	/* KDE screencast and remote access */
	"zkde_screencast_unstable_v1",
	"zkde_screencast_stream_unstable_v1",
	"org_kde_kwin_remote_access_manager",
	"org_kde_kwin_remote_buffer",
	/* weston screenshooter and capture */
	"weston_screenshooter",
	"weston_capture_v1",
	"weston_capture_source_v1",

	/* Data control: reads and sets the selection without focus */
	/* wlr-data-control-unstable-v1 */
	"zwlr_data_control_manager_v1",
	"zwlr_data_control_device_v1",
	"zwlr_data_control_source_v1",
	"zwlr_data_control_offer_v1",
	/* ext-data-control-v1 */
	"ext_data_control_manager_v1",
	"ext_data_control_device_v1",
	"ext_data_control_source_v1",
	"ext_data_control_offer_v1",

	/* Input methods and panels: see every key, type into every client */
	/* input-method-unstable-v2 */
	"zwp_input_method_manager_v2",
	"zwp_input_method_v2",
	"zwp_input_popup_surface_v2",
	"zwp_input_method_keyboard_grab_v2",
	/* input-method-unstable-v1 */
	"zwp_input_method_v1",
	"zwp_input_method_context_v1",
	"zwp_input_panel_v1",
	"zwp_input_panel_surface_v1",

	/* Foreign toplevels: list, activate, close every window */
	/* ext-foreign-toplevel-list-v1 */
	"ext_foreign_toplevel_list_v1",
	"ext_foreign_toplevel_handle_v1",
	/* wlr-foreign-toplevel-management-unstable-v1 */
	"zwlr_foreign_toplevel_manager_v1",
	"zwlr_foreign_toplevel_handle_v1",
	/* cosmic-toplevel-info and cosmic-toplevel-management */
	"zcosmic_toplevel_info_v1",
	"zcosmic_toplevel_handle_v1",
	"zcosmic_toplevel_manager_v1",
	/* KDE plasma-window-management */
	"org_kde_plasma_window_management",
	"org_kde_plasma_window",
	"org_kde_plasma_activation_feedback",
	"org_kde_plasma_activation",
	"org_kde_plasma_stacking_order",

	/* Workspace management: see and switch every workspace */
	/* ext-workspace-v1 */
	"ext_workspace_manager_v1",
	"ext_workspace_group_handle_v1",
	"ext_workspace_handle_v1",
	/* cosmic-workspace */
	"zcosmic_workspace_manager_v1",
	"zcosmic_workspace_group_handle_v1",
	"zcosmic_workspace_handle_v1",
	"zcosmic_workspace_manager_v2",
	"zcosmic_workspace_handle_v2",
	/* KDE plasma-virtual-desktop */
	"org_kde_plasma_virtual_desktop_management",
	"org_kde_plasma_virtual_desktop",

	/* Shell surfaces outside the window stack: panels, overlays, fake
	 * lock screens and full-screen covers that look like the host's */
	/* wlr-layer-shell-unstable-v1 */
	"zwlr_layer_shell_v1",
	"zwlr_layer_surface_v1",
	/* KDE plasma-shell, screen edges, lock screen overlay */
	"org_kde_plasma_shell",
	"org_kde_plasma_surface",
	"kde_screen_edge_manager_v1",
	"kde_auto_hide_screen_edge_v1",
	"kde_lockscreen_overlay_v1",
	/* weston desktop shell */
	"weston_desktop_shell",
	"weston_screensaver",
	/* fullscreen-shell-unstable-v1: a kiosk client owns the outputs */
	"zwp_fullscreen_shell_v1",
	"zwp_fullscreen_shell_mode_feedback_v1",

	/* Session lock and input inhibition: take input from everyone */
	/* ext-session-lock-v1 */
	"ext_session_lock_manager_v1",
	"ext_session_lock_v1",
	"ext_session_lock_surface_v1",
	/* wlr-input-inhibitor-unstable-v1 */
	"zwlr_input_inhibit_manager_v1",
	"zwlr_input_inhibitor_v1",

	/* Output management, power and colour: reconfigure or blank screens */
	/* wlr-output-management-unstable-v1 */
	"zwlr_output_manager_v1",
	"zwlr_output_head_v1",
	"zwlr_output_mode_v1",
	"zwlr_output_configuration_v1",
	"zwlr_output_configuration_head_v1",
	/* cosmic-output-management */
	"zcosmic_output_manager_v1",
	"zcosmic_output_head_v1",
	"zcosmic_output_configuration_v1",
	"zcosmic_output_configuration_head_v1",
	/* KDE output management, device, order, primary output, dpms */
	"kde_output_management_v2",
	"kde_output_configuration_v2",
	"kde_output_device_v2",
	"kde_output_device_mode_v2",
	"kde_output_order_v1",
	"kde_primary_output_v1",
	"org_kde_kwin_outputmanagement",
	"org_kde_kwin_outputconfiguration",
	"org_kde_kwin_outputdevice",
	"org_kde_kwin_dpms_manager",
	"org_kde_kwin_dpms",
	/* wlr-output-power-management-unstable-v1 */
	"zwlr_output_power_manager_v1",
	"zwlr_output_power_v1",
	/* wlr-gamma-control-unstable-v1 and hyprland-ctm-control-v1 */
	"zwlr_gamma_control_manager_v1",
	"zwlr_gamma_control_v1",
	"hyprland_ctm_control_manager_v1",
	/* weston touch calibration: rewrites every touch event */
	"weston_touch_calibration",
	"weston_touch_calibrator",
	"weston_touch_coordinate",

	/* Keyboard grabs and global shortcuts: keep or see every key */
	/* keyboard-shortcuts-inhibit-unstable-v1 */
	"zwp_keyboard_shortcuts_inhibit_manager_v1",
	"zwp_keyboard_shortcuts_inhibitor_v1",
	/* xwayland-keyboard-grab-unstable-v1 */
	"zwp_xwayland_keyboard_grab_manager_v1",
	"zwp_xwayland_keyboard_grab_v1",
	/* hyprland-global-shortcuts-v1 and hyprland-focus-grab-v1 */
	"hyprland_global_shortcuts_manager_v1",
	"hyprland_global_shortcut_v1",
	"hyprland_focus_grab_manager_v1",
	"hyprland_focus_grab_v1",

	/* xwayland-shell-v1: reserved for the compositor's own Xwayland */
	"xwayland_shell_v1",
	"xwayland_surface_v1",
	/* drm-lease-v1: takes a display connector away from the compositor */
	"wp_drm_lease_device_v1",
	"wp_drm_lease_connector_v1",
	"wp_drm_lease_request_v1",
	"wp_drm_lease_v1",
	/* security-context-v1: a sandbox engine's tool, and the proxy is the
	 * sandbox: a guest must not mint new, differently labelled clients */
	"wp_security_context_manager_v1",
	"wp_security_context_v1",

	/* Compositor control and status channels */
	/* river-control-unstable-v1: runs any compositor command */
	"zriver_control_v1",
	"zriver_command_callback_v1",
	/* river-status-unstable-v1: focused window titles of every client */
	"zriver_status_manager_v1",
	"zriver_output_status_v1",
	"zriver_seat_status_v1",
	/* river-layout-v3: places every window */
	"river_layout_manager_v3",
	"river_layout_v3",
	/* weston-debug: compositor internals, scene graph included */
	"weston_debug_v1",
	"weston_debug_stream_v1",
};

bool vmapp_policy_always_blocked(const char *interface)
{
	if (!interface)
		return false;
	for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++)
		if (strcmp(blocked[i], interface) == 0)
			return true;
	return false;
}

const char *const *vmapp_policy_blocked_list(size_t *ret_n)
{
	*ret_n = sizeof(blocked) / sizeof(blocked[0]);
	return blocked;
}
