/* SPDX-License-Identifier: MIT */
/*
 * VM definitions: one "KEY = VALUE" file per VM, $XDG_CONFIG_HOME/vmapp/NAME.vm
 * (the format is vmapp-vm(5)), the VM name rule, and where each VM keeps
 * its state and its sockets.
 *
 * A definition is data only: nothing here probes the host.  What the host
 * can do (KVM, vhost-vsock, virtiofsd) is resolved when the VM starts.
 */
#ifndef VMAPP_VMDEF_H
#define VMAPP_VMDEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The VM name is a window label and a path component: the label rule of
 * vmapp_label_valid(), 1..32 of [a-z0-9-], not starting with '-'. */
#define VMAPP_VM_NAME_MAX 32

/* Bounds checked by the parser; the host's own limits (its CPUs, its
 * memory) are checked by vmapp_vmdef_check_host() when the VM starts. */
#define VMAPP_VM_MEMORY_MIN_MIB 256u
#define VMAPP_VM_MEMORY_MAX_MIB (1024u * 1024u) /* 1024G */
#define VMAPP_VM_CPUS_MAX 64u
/* packages: at most this many names and bytes. */
#define VMAPP_VM_PACKAGES_COUNT_MAX 128u
#define VMAPP_VM_PACKAGES_MAX 2048u
/* What an image built for a VM gets besides the base system (systemd,
 * the kernel, ALSA, networkd, the agent). */
#define VMAPP_VM_DEFAULT_PACKAGES "foot fonts-dejavu-core"
/* Longest path value (share, image, policy), in bytes. */
#define VMAPP_VM_PATH_MAX 1024u

enum vmapp_accel {
	VMAPP_ACCEL_AUTO = 0, /* KVM when a probe guest really runs, else TCG with a warning */
	VMAPP_ACCEL_KVM,
	VMAPP_ACCEL_TCG,
};

enum vmapp_network {
	VMAPP_NETWORK_OFF = 0, /* no network device at all */
	VMAPP_NETWORK_NAT,     /* virtio-net on QEMU's user-mode NAT */
};

enum vmapp_audio {
	VMAPP_AUDIO_OFF = 0,  /* no audio device */
	VMAPP_AUDIO_PLAYBACK, /* an output codec only: the guest has no microphone */
	VMAPP_AUDIO_DUPLEX,   /* output and input */
};

enum vmapp_audio_backend {
	VMAPP_AUDIO_BACKEND_PULSEAUDIO = 0, /* QEMU's "pa": PulseAudio or pipewire-pulse */
	VMAPP_AUDIO_BACKEND_PIPEWIRE,       /* QEMU's native "pipewire" (QEMU 8.1 and later) */
	VMAPP_AUDIO_BACKEND_WAV,            /* playback into a WAV file: tests */
	VMAPP_AUDIO_BACKEND_NONE,           /* a device that plays into nothing: tests */
};

enum vmapp_share_mode {
	VMAPP_SHARE_AUTO = 0, /* virtiofs where virtiofsd is usable, else 9p */
	VMAPP_SHARE_VIRTIOFS,
	VMAPP_SHARE_9P,
};

enum vmapp_transport {
	VMAPP_TRANSPORT_AUTO = 0, /* vsock where /dev/vhost-vsock is usable, else serial */
	VMAPP_TRANSPORT_VSOCK,
	VMAPP_TRANSPORT_SERIAL,
};

struct vmapp_vmdef {
	char name[VMAPP_VM_NAME_MAX + 1]; /* valid per vmapp_vm_name_check() */
	uint64_t memory_mib;
	uint32_t cpus;
	char *image;  /* "default", an image name (the name rule) or an absolute path */
	enum vmapp_accel accel;
	enum vmapp_network network;
	enum vmapp_audio audio;
	enum vmapp_audio_backend audio_backend;
	char *share;  /* may be NULL: no shared folder; else an absolute path */
	enum vmapp_share_mode share_mode;
	enum vmapp_transport transport;
	char *policy; /* may be NULL: the built-in default policy; else an absolute path */
	bool has_colour;
	uint32_t colour; /* 0xrrggbb, when has_colour */
	/* Debian package names, one space apart, not empty: installed in an
	 * image built for this VM (image names one that does not exist yet). */
	char *packages;
};

/*
 * 0 when name is a valid VM name, else -EINVAL and why in ret_error
 * ("VM name 'A' ...").  ret_error may be NULL.
 */
int vmapp_vm_name_check(const char *name, char *ret_error, size_t error_size);

/* A definition with every default (vmapp-vm(5) DEFAULTS); NULL when out of
 * memory or the name is not valid.  Free with vmapp_vmdef_destroy(). */
struct vmapp_vmdef *vmapp_vmdef_create(const char *name);
void vmapp_vmdef_destroy(struct vmapp_vmdef *def); /* accepts NULL */

/*
 * Sets one key from its text form, as a line of the file would.  Returns 0,
 * or -EINVAL and "what is wrong" (no file or line) in ret_error, leaving
 * def as it was; -ENOMEM.  Also the way a command changes one setting.
 */
int vmapp_vmdef_set(struct vmapp_vmdef *def, const char *key, const char *value,
		    char *ret_error, size_t error_size);

/* The text form of one key's value, as the file would hold it: written to
 * buf (always NUL-terminated).  -EINVAL for an unknown key, -ENOSPC when
 * buf is too small. */
int vmapp_vmdef_get(const struct vmapp_vmdef *def, const char *key, char *buf, size_t size);

/* The keys, in the order the file is written; *ret_n of them. */
const char *const *vmapp_vmdef_keys(size_t *ret_n);

/*
 * Parses the text of NAME.vm.  Returns 0 and a new definition in
 * *ret_def, or -EINVAL and "FILENAME:LINE: what is wrong" in ret_error
 * (always NUL-terminated); -ENOMEM.  name must be a valid VM name.
 */
int vmapp_vmdef_parse(const char *text, size_t len, const char *filename, const char *name,
		      char *ret_error, size_t error_size, struct vmapp_vmdef **ret_def);

/*
 * Checks of one key against another, which the parser makes once a whole
 * file is read (audio duplex with the wav backend): 0, or -EINVAL and the
 * parser's message (no file or line).  For a definition changed by
 * vmapp_vmdef_set() before it is written.
 */
int vmapp_vmdef_check(const struct vmapp_vmdef *def, char *ret_error, size_t error_size);

/* The text of a definition file (at most 64 KiB), NUL-terminated, in
 * *ret_text (caller frees) and its length in *ret_len.  0, or -errno and
 * "FILE: reason" (-EFBIG when too large). */
int vmapp_vmdef_read(const char *path, char **ret_text, size_t *ret_len,
		     char *ret_error, size_t error_size);

/* Reads and parses a file (at most 64 KiB); -errno and "FILE: reason" when
 * it can not be read. */
int vmapp_vmdef_load(const char *path, const char *name,
		     char *ret_error, size_t error_size, struct vmapp_vmdef **ret_def);

/* The file text for def, every key written (defaults too), parsed back to
 * an equal definition.  NULL when out of memory.  Caller frees. */
char *vmapp_vmdef_serialize(const struct vmapp_vmdef *def);

/* True when the two definitions say the same thing. */
bool vmapp_vmdef_equal(const struct vmapp_vmdef *a, const struct vmapp_vmdef *b);

/*
 * What only the host can say: cpus above its CPUs, memory above its
 * memory.  0, or -EINVAL and a message naming the key.  Pure: the caller
 * passes the host's numbers (vmapp_host_cpus(), vmapp_host_memory_mib()).
 */
int vmapp_vmdef_check_host(const struct vmapp_vmdef *def, uint32_t host_cpus,
			   uint64_t host_memory_mib, char *ret_error, size_t error_size);
uint32_t vmapp_host_cpus(void);
uint64_t vmapp_host_memory_mib(void);

/* Names of the enum values, as the file spells them. */
const char *vmapp_accel_name(enum vmapp_accel accel);
const char *vmapp_network_name(enum vmapp_network network);
const char *vmapp_audio_name(enum vmapp_audio audio);
const char *vmapp_audio_backend_name(enum vmapp_audio_backend backend);
const char *vmapp_share_mode_name(enum vmapp_share_mode mode);
const char *vmapp_transport_name(enum vmapp_transport transport);

/*
 * The environment the paths come from.  Each XDG variable is used only
 * when it is an absolute path (the XDG base directory spec says to ignore
 * a relative one); otherwise its default under home.  Fields may be NULL.
 */
struct vmapp_env {
	const char *home;
	const char *xdg_config_home; /* default home/.config */
	const char *xdg_state_home;  /* default home/.local/state */
	const char *xdg_data_home;   /* default home/.local/share */
	const char *xdg_runtime_dir; /* no default */
};

/* Fills env from getenv(); the pointers are the environment's. */
void vmapp_env_from_environ(struct vmapp_env *env);

/* sizeof(sockaddr_un.sun_path): a socket path must fit, with its NUL. */
#define VMAPP_SOCKET_PATH_MAX 108

struct vmapp_vm_paths {
	char config_dir[VMAPP_VM_PATH_MAX];  /* CONFIG/vmapp */
	char config_file[VMAPP_VM_PATH_MAX]; /* CONFIG/vmapp/NAME.vm */
	char state_dir[VMAPP_VM_PATH_MAX];   /* STATE/vmapp/NAME: disks, logs */
	char console_log[VMAPP_VM_PATH_MAX]; /* STATE/vmapp/NAME/console.log */
	char vm_log[VMAPP_VM_PATH_MAX];      /* STATE/vmapp/NAME/vm.log: the VM's proxy and QEMU */
	char overlay[VMAPP_VM_PATH_MAX];     /* STATE/vmapp/NAME/root.qcow2: the VM's own disk */
	char audio_wav[VMAPP_VM_PATH_MAX];   /* STATE/vmapp/NAME/audio.wav (audio_backend wav) */
	char images_dir[VMAPP_VM_PATH_MAX];  /* DATA/vmapp/images: built images, one folder each */
	/* Only when has_runtime (XDG_RUNTIME_DIR is set, absolute, and the
	 * socket paths fit); else empty strings. */
	bool has_runtime;
	char runtime_dir[VMAPP_VM_PATH_MAX];                /* RUNTIME/vmapp/NAME */
	char pid_file[VMAPP_VM_PATH_MAX];                   /* RUNTIME/vmapp/NAME/qemu.pid */
	char transport_socket[VMAPP_SOCKET_PATH_MAX];       /* .../transport.sock (serial) */
	char virtiofs_socket[VMAPP_SOCKET_PATH_MAX];        /* .../virtiofs.sock */
	/* transport vsock on vmapp-vsockd: its vhost-user socket, and the
	 * socket of the VM's proxy it brings the agent's connections to. */
	char vsock_socket[VMAPP_SOCKET_PATH_MAX];           /* .../vsock.sock */
	char agent_socket[VMAPP_SOCKET_PATH_MAX];           /* .../agent.sock */
	char qmp_socket[VMAPP_SOCKET_PATH_MAX];             /* .../qmp.sock */
	char control_socket[VMAPP_SOCKET_PATH_MAX];         /* .../control.sock: the VM's proxy */
	char lock_file[VMAPP_VM_PATH_MAX];                  /* .../lock: held by the VM's proxy */
};

/* CONFIG/vmapp, the folder of every NAME.vm: 0, or -EINVAL or
 * -ENAMETOOLONG with why, as vmapp_vm_paths_init(). */
int vmapp_vm_config_dir(const struct vmapp_env *env, char *buf, size_t size,
			char *ret_error, size_t error_size);

/*
 * The paths of VM name.  0, or -EINVAL (bad name, no absolute home for a
 * default) or -ENAMETOOLONG, with why in ret_error.  A runtime directory
 * that is missing or too long for socket paths is not an error here:
 * has_runtime says so and runtime_error (may be NULL) says why.
 */
int vmapp_vm_paths_init(struct vmapp_vm_paths *paths, const struct vmapp_env *env,
			const char *name, char *ret_error, size_t error_size);

/* Why paths has no runtime directory: static text, or NULL when it has. */
const char *vmapp_vm_paths_runtime_error(const struct vmapp_vm_paths *paths,
					 const struct vmapp_env *env);

/* The folder of the image def names: its path when absolute, else
 * images_dir/IMAGE.  0 or -ENAMETOOLONG. */
int vmapp_vm_image_dir(const struct vmapp_vmdef *def, const struct vmapp_vm_paths *paths,
		       char *buf, size_t size);

/* Writes all of text to fd and fsyncs it: 0 or -errno.  What a file
 * written through a temporary file and a rename needs before the rename. */
int vmapp_write_synced(int fd, const char *text, size_t len);

/* mkdir -p path, mode for the folders it makes: 0, -EINVAL for an empty
 * path, -ENAMETOOLONG, or -errno. */
int vmapp_make_dirs(const char *path, unsigned int mode);

/*
 * Writes a new NAME.vm with every default into paths->config_dir (made,
 * mode 0700, if missing).  -EEXIST when the VM exists; -errno otherwise,
 * with why in ret_error.  The file appears whole or not at all.
 */
int vmapp_vm_create(const struct vmapp_vm_paths *paths, const char *name,
		    char *ret_error, size_t error_size);

/* As vmapp_vm_create(), with def's settings (def->name is the paths' VM).
 * -EINVAL when def fails vmapp_vmdef_check(). */
int vmapp_vm_create_from(const struct vmapp_vm_paths *paths, const struct vmapp_vmdef *def,
			 char *ret_error, size_t error_size);

/* Writes def to path, replacing it atomically (temporary file, fsync,
 * rename).  0 or -errno with why in ret_error. */
int vmapp_vmdef_write(const char *path, const struct vmapp_vmdef *def,
		      char *ret_error, size_t error_size);

/* The same for a file's text, as it is: the caller has parsed it. */
int vmapp_vmdef_write_text(const char *path, const char *text,
			   char *ret_error, size_t error_size);

/*
 * The VMs defined in config_dir: the names of its NAME.vm files whose
 * NAME is valid, sorted.  *ret_names is a NULL-terminated array, freed
 * with vmapp_vm_list_free(); a missing folder is an empty list.  0 or
 * -errno.
 */
int vmapp_vm_list(const char *config_dir, char ***ret_names, size_t *ret_n);
void vmapp_vm_list_free(char **names); /* accepts NULL */

#endif
